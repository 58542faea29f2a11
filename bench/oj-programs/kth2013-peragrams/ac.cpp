#include <bits/stdc++.h>
int main() { std::string s; std::cin >> s; int c[26] = {0}, odd = 0;
  for (char ch : s) c[ch - 'a']++; for (int v : c) odd += v % 2;
  std::cout << std::max(0, odd - 1) << "\n"; }
