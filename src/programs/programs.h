/* SPDX-License-Identifier: MIT */
#pragma once

/* Each returns the process exit status. argv[0] is the command's name. */
int box_main(int argc, char **argv);
int languages_main(int argc, char **argv);
int run_main(int argc, char **argv);
int serve_main(int argc, char **argv);
/* Runs coderunner-serve (installed next to coderunner) with argv; returns only on failure. */
int serve_exec(int argc, char **argv);
