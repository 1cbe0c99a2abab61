/* SPDX-License-Identifier: MIT */
/* What a checker's (or an interactor's) run says about a test, by testlib's conventions:
 * its exit code, and for partial answers the points quitp() writes ("points 0.5 text"). */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "judge/judge.h"

/* testlib.h's exit codes (OK_EXIT_CODE, WA_EXIT_CODE, PE_EXIT_CODE, FAIL_EXIT_CODE,
 * DIRT_EXIT_CODE, POINTS_EXIT_CODE, UNEXPECTED_EOF_EXIT_CODE). */
enum {
        CHECK_OK = 0,
        CHECK_WA = 1,
        CHECK_PE = 2,
        CHECK_FAIL = 3,
        CHECK_DIRT = 4, /* extra data after the answer: the contestant's output */
        CHECK_POINTS = 7,
        CHECK_UNEXPECTED_EOF = 8, /* the contestant's output ended too soon */
};

#define POINTS_WORD "points"
#define POINTS_TEXT_MAX 64

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The first line of text that is not blank, as printable ASCII (anything else becomes
 * '?'), at most JUDGE_CHECK_MESSAGE_MAX bytes; "" when there is none. */
static void first_line(const char *s, size_t len, char ret[static JUDGE_CHECK_MESSAGE_MAX + 1]) {
        size_t i = 0, n = 0;
        while (i < len && is_blank(s[i]))
                i++;
        for (; i < len && s[i] != '\n' && s[i] != '\r' && n < JUDGE_CHECK_MESSAGE_MAX; i++) {
                unsigned char c = (unsigned char) s[i];
                ret[n++] = c >= 0x20 && c < 0x7f ? (char) c : c == '\t' ? ' ' : '?';
        }
        while (n > 0 && ret[n - 1] == ' ')
                n--;
        ret[n] = '\0';
}

/* "points X rest" (the word is optional): X into *ret_points, the rest into msg (moved to
 * its start). Returns 0, or -EINVAL when there is no number in [0, 1] first. */
static int parse_points(char *msg, double *ret_points) {
        char *p = msg;
        if (strncmp(p, POINTS_WORD, strlen(POINTS_WORD)) == 0 && p[strlen(POINTS_WORD)] == ' ')
                p += strlen(POINTS_WORD) + 1;
        while (*p == ' ')
                p++;
        size_t n = 0;
        while (p[n] && p[n] != ' ')
                n++;
        if (n == 0 || n >= POINTS_TEXT_MAX)
                return -EINVAL;
        char num[POINTS_TEXT_MAX];
        memcpy(num, p, n);
        num[n] = '\0';
        /* digits, one dot, an exponent: no hex, no inf, no nan */
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789.eE+-", num[i]))
                        return -EINVAL;
        char *end;
        errno = 0;
        double v = strtod(num, &end);
        if (errno != 0 || *end != '\0' || !isfinite(v) || v < 0 || v > 1)
                return -EINVAL;
        p += n;
        while (*p == ' ')
                p++;
        memmove(msg, p, strlen(p) + 1);
        *ret_points = v;
        return 0;
}

static int set(JudgeCheck *c, int status, double points, const char *prefix, const char *text) {
        c->status_id = status;
        c->points = points;
        free(c->message);
        c->message = NULL;
        if (!*prefix && !*text)
                return 0;
        if (asprintf(&c->message, "%s%s%s", prefix, *prefix && *text ? ": " : "", text) < 0) {
                c->message = NULL;
                return -ENOMEM;
        }
        return 0;
}

int judge_check_decide(const char *who, const BoxResult *box, const char *err, size_t err_len,
        const char *out, size_t out_len, JudgeCheck *ret) {
        char msg[JUDGE_CHECK_MESSAGE_MAX + 1], why[sizeof(((BoxResult *) NULL)->message) + 64], failed[64];
        JudgeCheck c = {};
        int r;

        snprintf(failed, sizeof failed, "%s failed", who);
        first_line(err ? err : "", err ? err_len : 0, msg);
        if (!msg[0])
                first_line(out ? out : "", out ? out_len : 0, msg);

        if (box->status != BOX_STATUS_OK && box->status != BOX_STATUS_RE) {
                /* a limit, a signal, or the sandbox: never the contestant's fault */
                snprintf(why, sizeof why, "%s",
                        box->message[0] ? box->message : box_status_to_string(box->status));
                r = set(&c, STATUS_INTERNAL_ERROR, 0, failed, why);
        } else
                switch (box->exit_code) {
                case CHECK_OK:
                        r = set(&c, STATUS_ACCEPTED, 1, "", msg);
                        break;
                case CHECK_WA:
                case CHECK_DIRT:
                        r = set(&c, STATUS_WRONG_ANSWER, 0, "", msg);
                        break;
                case CHECK_PE:
                case CHECK_UNEXPECTED_EOF:
                        /* Judge0 has no such status: a wrong answer that says so */
                        r = set(&c, STATUS_WRONG_ANSWER, 0, "Presentation error", msg);
                        break;
                case CHECK_POINTS: {
                        double points = 0;
                        if (parse_points(msg, &points) < 0) {
                                r = set(&c, STATUS_INTERNAL_ERROR, 0, failed,
                                        "exit code 7 without \"points X\" (0 <= X <= 1) first");
                                break;
                        }
                        r = set(&c, points >= 1 ? STATUS_ACCEPTED : STATUS_WRONG_ANSWER, points, "", msg);
                        break;
                }
                case CHECK_FAIL:
                        r = set(&c, STATUS_INTERNAL_ERROR, 0, failed, msg);
                        break;
                default:
                        snprintf(why, sizeof why, "exit code %d%s%s", box->exit_code, msg[0] ? ": " : "",
                                msg);
                        r = set(&c, STATUS_INTERNAL_ERROR, 0, failed, why);
                        break;
                }
        if (r < 0) {
                judge_check_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void judge_check_done(JudgeCheck *c) {
        if (!c)
                return;
        free(c->message);
        *c = (JudgeCheck){};
}
