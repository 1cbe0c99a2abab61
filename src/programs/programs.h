/* SPDX-License-Identifier: MIT */
#pragma once

/* Each returns the process exit status. argv[0] is the command's name. */
int box_main(int argc, char **argv);
int languages_main(int argc, char **argv);
int run_main(int argc, char **argv);
int serve_main(int argc, char **argv);
int api_main(int argc, char **argv);
int worker_main(int argc, char **argv);
int gateway_main(int argc, char **argv);
int cluster_main(int argc, char **argv);
/* Runs coderunner-serve (installed next to coderunner) with argv, whose argv[0] names the
 * server role (serve, api, worker, gateway); returns only on failure. */
int serve_exec(int argc, char **argv);
