/* SPDX-License-Identifier: MIT */
#pragma once

/* Each returns the process exit status. argv[0] is the command's name. */
int box_main(int argc, char **argv);
