// Wrong: forgets the -1 case (prints a probability anyway).
#include <bits/stdc++.h>
int main() { int n, m, h; std::cin >> n >> m >> h; std::vector<int> s(m); long long t = 0;
  for (auto& x : s) { std::cin >> x; t += x; }
  double none = 1; for (int i = 0; i < n - 1; i++) none *= double(t - s[h - 1] - i) / double(t - 1 - i);
  printf("%.10f\n", 1 - none); }
