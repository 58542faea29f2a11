// Does not compile: undeclared identifier.
#include <bits/stdc++.h>
int main() { std::string m; int d; std::cin >> m >> d;
  std::cout << (is_halloween(m, d) ? "yup" : "nope") << "\n"; }
