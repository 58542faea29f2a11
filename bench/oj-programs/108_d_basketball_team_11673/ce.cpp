// Does not compile: printf with an undeclared variable.
#include <bits/stdc++.h>
int main() { int n; std::cin >> n; printf("%.10f\n", probability); }
