// Does not compile: no main's closing brace.
#include <bits/stdc++.h>
int main() { std::string s; std::cin >> s;
