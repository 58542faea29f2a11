// Right answer, but first touches 800 MB (more than the 512 MB limit).
#include <bits/stdc++.h>
int main() { std::vector<char> buf(800u << 20, 1); long long n, m; std::cin >> n >> m;
  if (m % n) { puts("-1"); return buf[12345] - 1; }
  long long q = m / n, k = 0; while (q % 2 == 0) q /= 2, k++; while (q % 3 == 0) q /= 3, k++;
  std::cout << (q == 1 ? k : -1) << "\n"; return buf[54321] - 1; }
