#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
        volatile double two = 2.0;
        char *s = malloc(3);
        if (!s || sqrt(two) < 1.41 || sqrt(two) > 1.42)
                return 1;
        snprintf(s, 3, "%s", "OK");
        puts(s);
        free(s);
        return 0;
}
