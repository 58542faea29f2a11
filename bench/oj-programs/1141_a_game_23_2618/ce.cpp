// Does not compile: wrong type for std::cin.
#include <bits/stdc++.h>
int main() { long long n, m; std::cin >> n >> m; std::vector<int> v = m; std::cout << v << "\n"; }
