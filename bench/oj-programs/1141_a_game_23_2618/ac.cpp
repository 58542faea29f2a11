#include <bits/stdc++.h>
int main() { long long n, m; std::cin >> n >> m;
  if (m % n) { puts("-1"); return 0; }
  long long q = m / n, k = 0; while (q % 2 == 0) q /= 2, k++; while (q % 3 == 0) q /= 3, k++;
  std::cout << (q == 1 ? k : -1) << "\n"; }
