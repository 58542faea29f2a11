// Does not compile: assigns a string to a long long.
#include <bits/stdc++.h>
int main() { long long n = std::string("7"); std::cout << n << "\n"; }
