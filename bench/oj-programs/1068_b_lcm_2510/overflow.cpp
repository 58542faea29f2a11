// Wrong: reads b into an int (b goes up to 10^10).
#include <bits/stdc++.h>
int main() { int b; long long c = 0; std::cin >> b;
  for (long long d = 1; d * d <= b; d++) if (b % d == 0) c += (d * d == b) ? 1 : 2;
  std::cout << c << "\n"; }
