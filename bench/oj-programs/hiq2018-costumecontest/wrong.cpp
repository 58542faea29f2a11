// Wrong: prints only the first of tied categories.
#include <bits/stdc++.h>
int main() { int n; std::cin >> n; std::map<std::string, int> c; std::string s;
  for (int i = 0; i < n; i++) { std::cin >> s; c[s]++; }
  int low = INT_MAX; for (auto& [k, v] : c) low = std::min(low, v);
  for (auto& [k, v] : c) if (v == low) { std::cout << k << "\n"; break; } }
