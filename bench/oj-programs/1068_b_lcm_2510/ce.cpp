// Does not compile: calls a function that does not exist.
#include <bits/stdc++.h>
int main() { long long b; std::cin >> b; std::cout << count_divisors(b) << "\n"; }
