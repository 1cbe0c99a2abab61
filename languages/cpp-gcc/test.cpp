#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

int main() {
        std::vector<std::string> v{"K", "O"};
        std::sort(v.begin(), v.end(), std::greater<std::string>());
        std::cout << v[0] << v[1] << std::endl;
        return 0;
}
