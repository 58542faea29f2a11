// Wrong: forgets December 25.
#include <bits/stdc++.h>
int main() { std::string m; int d; std::cin >> m >> d;
  std::cout << ((m == "OCT" && d == 31) ? "yup" : "nope") << "\n"; }
