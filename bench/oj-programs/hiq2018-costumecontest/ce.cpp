// Does not compile: missing semicolon.
#include <bits/stdc++.h>
int main() { int n; std::cin >> n std::map<std::string, int> c; }
