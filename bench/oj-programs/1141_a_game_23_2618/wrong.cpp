// Wrong: counts the moves as log2 of m / n.
#include <bits/stdc++.h>
int main() { long long n, m; std::cin >> n >> m;
  if (m % n) { puts("-1"); return 0; }
  long long q = m / n, k = 0; while (q > 1) q /= 2, k++;
  std::cout << k << "\n"; }
