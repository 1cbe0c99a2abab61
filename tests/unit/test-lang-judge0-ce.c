/* SPDX-License-Identifier: MIT */
/* Judge0 CE 1.13.1's language list: complete, ordered, with Judge0's ids and names. */
#include <string.h>

#include "lang/judge0-ce.h"
#include "tests.h"

int main(void) {
        ASSERT_EQ(judge0_ce_n_languages, (size_t) 89);
        size_t archived = 0;
        for (size_t i = 0; i < judge0_ce_n_languages; i++) {
                const Judge0CeLanguage *l = &judge0_ce_languages[i];
                ASSERT_EQ(l->id, (int) i + 1); /* ids 1 to 89, in order, each once */
                ASSERT_TRUE(l->name && l->name[0]);
                /* 89, the multi-file program, runs the scripts of its zip: no file. */
                if (l->id == 89)
                        ASSERT_TRUE(!l->source_file);
                else
                        ASSERT_TRUE(l->source_file && l->source_file[0]);
                archived += l->is_archived;
        }
        ASSERT_EQ(archived, (size_t) 42); /* archived.rb's 42 */
        ASSERT_TRUE(strcmp(judge0_ce_languages[0].name, "Bash (4.4)") == 0);
        ASSERT_TRUE(judge0_ce_languages[0].is_archived);
        ASSERT_TRUE(strcmp(judge0_ce_languages[47].name, "C (GCC 7.4.0)") == 0 &&
                    !judge0_ce_languages[47].is_archived);
        ASSERT_TRUE(strcmp(judge0_ce_languages[51].name, "C++ (GCC 7.4.0)") == 0);
        /* The aliases: Judge0's older GCCs, served by the catalogue's GCC. */
        ASSERT_EQ(judge0_ce_alias_of(48), 50);
        ASSERT_EQ(judge0_ce_alias_of(49), 50);
        ASSERT_EQ(judge0_ce_alias_of(52), 54);
        ASSERT_EQ(judge0_ce_alias_of(53), 54);
        static const int none[] = {0, -1, 1, 4, 47, 50, 51, 54, 70, 71, 89, 90};
        for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
                ASSERT_EQ(judge0_ce_alias_of(none[i]), 0);
        return 0;
}
