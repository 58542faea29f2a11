#include <bits/stdc++.h>
int main() { long long b, c = 0; std::cin >> b;
  for (long long d = 1; d * d <= b; d++) if (b % d == 0) c += (d * d == b) ? 1 : 2;
  std::cout << c << "\n"; }
