#include <bits/stdc++.h>
int main() { std::string m; int d; std::cin >> m >> d;
  std::cout << (((m == "OCT" && d == 31) || (m == "DEC" && d == 25)) ? "yup" : "nope") << "\n"; }
