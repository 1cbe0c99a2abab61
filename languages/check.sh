#!/bin/bash
# SPDX-License-Identifier: MIT
#
# languages/check.sh [SLUG...] — a developer's check of the language catalogue: for each
# language (all of languages/*/ by default), detect its version the way the catalogue
# does, then compile and run its test program in the real sandbox and expect "OK".
# Prints one line per language (PASS / FAIL / NOT INSTALLED and why) and exits 1 when
# anything FAILed. Needs root (or a rootless setup the sandbox supports) and a built
# build/coderunner (`ninja -C build`).
#
# The limits are Judge0 CE's defaults: compile with its MAX_* values (15 s CPU, 20 s wall,
# 512000 KiB, 120 processes, 128000 KiB stack; files up to 256 MiB, as the judge allows),
# run with a submission's defaults (5 s CPU, 10 s wall, 128000 KiB, 60 processes, 64000 KiB
# stack, 1024 KiB files), each raised to the language's compile_* / run_*_min keys.
# Override with the variables below, e.g. RUN_MEM=262144. The environment is the judge's
# (LANG=C.UTF-8, HOME=/tmp) plus the language's env lines; its bind lines are bound; the
# compile command runs as "/bin/sh -c CMD", the run command as "/bin/sh -c 'exec CMD'".
# VERBOSE=1 shows the sandbox's output of every step. IGNORE_MINIMA=1 ignores the
# language's own limits (to measure what a toolchain needs, e.g. RUN_PROCS=8).

set -u
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
box=${CODERUNNER:-$root/build/coderunner}

COMPILE_TIME=${COMPILE_TIME:-15}
COMPILE_WALL=${COMPILE_WALL:-20}
COMPILE_MEM=${COMPILE_MEM:-512000}
COMPILE_PROCS=${COMPILE_PROCS:-120}
COMPILE_STACK=${COMPILE_STACK:-128000}
COMPILE_FSIZE=${COMPILE_FSIZE:-262144}
RUN_TIME=${RUN_TIME:-5}
RUN_WALL=${RUN_WALL:-10}
RUN_MEM=${RUN_MEM:-128000}
RUN_PROCS=${RUN_PROCS:-60}
RUN_STACK=${RUN_STACK:-64000}
RUN_FSIZE=${RUN_FSIZE:-1024}
VERBOSE=${VERBOSE:-0}
IGNORE_MINIMA=${IGNORE_MINIMA:-0}

if [ ! -x "$box" ]; then
	echo "check.sh: $box is not built (ninja -C build)" >&2
	exit 2
fi

# "key = value" lines, '#' comment lines; bind and env may repeat.
declare -A conf
binds=()
envs=()
parse_conf() {
	local file=$1 line key value
	conf=()
	binds=()
	envs=()
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line#"${line%%[![:space:]]*}"}
		case $line in '#'* | '') continue ;; esac
		key=${line%%=*}
		value=${line#*=}
		key=${key%"${key##*[![:space:]]}"}
		value=${value#"${value%%[![:space:]]*}"}
		value=${value%"${value##*[![:space:]]}"}
		case $key in
		bind) binds+=("$value") ;;
		env) envs+=("$value") ;;
		*) conf[$key]=$value ;;
		esac
	done <"$file"
}

# As src/lang/language.c: the text after the first occurrence of prefix, blanks skipped,
# up to the next whitespace or one of ( ) [ ] , ; " ' (or a non-ASCII byte).
extract_version() {
	local text=$1 prefix=$2 rest v="" c i
	case $text in *"$prefix"*) ;; *) return 1 ;; esac
	rest=${text#*"$prefix"}
	rest=${rest#"${rest%%[!$' \t']*}"}
	for ((i = 0; i < ${#rest}; i++)); do
		c=${rest:i:1}
		case $c in [\(\)\[\],\;\"\']) break ;; esac
		[[ $c == [\!-~] ]] || break
		v+=$c
	done
	[ -n "$v" ] && [ ${#v} -le 128 ] || return 1
	printf '%s' "$v"
}

max() { if [ "$1" -gt "$2" ] || [ "$IGNORE_MINIMA" = 1 ]; then echo "$1"; else echo "$2"; fi; }

# json_field FILE KEY: a scalar of the result record (flat JSON object, one line).
json_field() {
	sed -n "s/.*\"$2\":\\(\"[^\"]*\"\\|[^,}]*\\).*/\\1/p" "$1" | tr -d '"'
}

# sandbox STEP WORKDIR TIME WALL MEM PROCS STACK FSIZE COMMAND: run COMMAND by /bin/sh -c
# in the box, as the judge does (src/judge/judge.c); leaves $WORK/STEP.{out,err,json}.
sandbox() {
	local step=$1 w=$2 t=$3 wall=$4 mem=$5 procs=$6 stack=$7 fsize=$8 cmd=$9 b e
	local args=(--env=LANG=C.UTF-8 --env=HOME=/tmp)
	for b in "${binds[@]}"; do args+=("--dir=$b"); done
	for e in "${envs[@]}"; do args+=("--env=$e"); done
	"$box" box run --workdir="$w" --time="$t" --wall-time="$wall" --mem="$mem" \
		--processes="$procs" --stack="$stack" --fsize="$fsize" --output-limit=65536 --quiet \
		--result="$WORK/$step.json" --stdout="$WORK/$step.out" --stderr="$WORK/$step.err" \
		"${args[@]}" -- /bin/sh -c "$cmd"
	local rc=$?
	if [ "$VERBOSE" = 1 ]; then
		echo "--- $step: $cmd" >&2
		cat "$WORK/$step.out" "$WORK/$step.err" "$WORK/$step.json" >&2 2>/dev/null
	fi
	return $rc
}

# One line: status, message, the first lines of the program's output.
why() {
	local step=$1 status msg
	status=$(json_field "$WORK/$step.json" status)
	msg=$(json_field "$WORK/$step.json" message)
	case $msg in *"signal 25"*) msg="$msg: SIGXFSZ, a file beyond the file size limit" ;; esac
	printf '%s %s (%s): %s' "$step" "${status:-?}" "${msg:-no record}" \
		"$(cat "$WORK/$step.err" "$WORK/$step.out" 2>/dev/null | head -c 400 | tr '\n' '|')"
}

usage() {
	local step=$1
	printf '%s %ss/%ss %sKiB' "$step" "$(json_field "$WORK/$step.json" cpu_time)" \
		"$(json_field "$WORK/$step.json" wall_time)" "$(json_field "$WORK/$step.json" memory)"
}

check_one() {
	local slug=$1 dir=$here/$1 vout ver name w rc limits cmd
	if [ ! -f "$dir/language.conf" ]; then
		echo "FAIL           $slug: no $dir/language.conf"
		return 1
	fi
	parse_conf "$dir/language.conf"
	local id=${conf[id]:-?}
	local head
	head=$(printf '%-4s %-12s' "$id" "$slug")

	# Version detection, as the catalogue does it: split on blanks, no shell; stdout and
	# stderr, LC_ALL=C.
	local -a vcmd
	read -ra vcmd <<<"${conf[version]:-}"
	if [ ${#vcmd[@]} = 0 ]; then
		echo "FAIL          $head no version command"
		return 1
	fi
	if ! vout=$(LC_ALL=C "${vcmd[@]}" 2>&1 </dev/null); then
		echo "NOT INSTALLED $head '${conf[version]}' failed: $(printf '%s' "$vout" | head -c 200 | tr '\n' ' ') (packages: ${conf[packages]:-})"
		return 0
	fi
	if ! ver=$(extract_version "$vout" "${conf[version_pattern]:-}"); then
		echo "NOT INSTALLED $head no '${conf[version_pattern]:-}' in the output of '${conf[version]}': $(printf '%s' "$vout" | head -c 200 | tr '\n' ' ')"
		return 0
	fi
	name=${conf[name]//\{version\}/$ver}

	WORK=$(mktemp -d /tmp/coderunner-check.XXXXXX)
	w=$WORK/box
	mkdir "$w"
	chmod 755 "$WORK" "$w"

	local cmp_mem cmp_procs run_mem run_procs
	cmp_mem=$(max "$COMPILE_MEM" "${conf[compile_memory_kib]:-0}")
	cmp_procs=$(max "$COMPILE_PROCS" "${conf[compile_processes]:-0}")
	run_mem=$(max "$RUN_MEM" "${conf[run_memory_kib_min]:-0}")
	run_procs=$(max "$RUN_PROCS" "${conf[run_processes_min]:-0}")

	local report=""
	if [ -z "${conf[source]:-}" ]; then
		# Judge0's "Multi-file program": the zip brings its own compile and run scripts,
		# run by bash; the judge extracts it. Here: a two-script project made on the fly.
		printf 'printf "O" > part1\nprintf "K\\n" > part2\n' >"$w/compile"
		printf 'cat part1 part2\n' >"$w/run"
		conf[compile]="/bin/bash compile"
		conf[run]="/bin/bash run"
	else
		if [ -z "${conf[test]:-}" ] || [ ! -f "$dir/${conf[test]}" ]; then
			echo "FAIL          $head no test program"
			rm -rf "$WORK"
			return 1
		fi
		install -m 644 "$dir/${conf[test]}" "$w/${conf[source]}"
	fi

	if [ -n "${conf[compile]:-}" ]; then
		cmd=${conf[compile]//%s/}
		sandbox compile "$w" "$COMPILE_TIME" "$COMPILE_WALL" "$cmp_mem" "$cmp_procs" \
			"$COMPILE_STACK" "$COMPILE_FSIZE" "$cmd"
		rc=$?
		if [ $rc != 0 ] || [ "$(json_field "$WORK/compile.json" status)" != OK ]; then
			echo "FAIL          $head $name: $(why compile)"
			rm -rf "$WORK"
			return 1
		fi
		report="$(usage compile), "
	fi

	# The judge runs the run command with the shell's exec (the program replaces the shell).
	sandbox run "$w" "$RUN_TIME" "$RUN_WALL" "$run_mem" "$run_procs" "$RUN_STACK" "$RUN_FSIZE" \
		"exec ${conf[run]}"
	rc=$?
	if [ $rc != 0 ] || [ "$(json_field "$WORK/run.json" status)" != OK ]; then
		echo "FAIL          $head $name: $(why run)"
		rm -rf "$WORK"
		return 1
	fi
	if [ "$(cat "$WORK/run.out")" != OK ] || [ "$(wc -l <"$WORK/run.out")" != 1 ]; then
		echo "FAIL          $head $name: printed '$(head -c 200 "$WORK/run.out" | tr '\n' '|')' not 'OK'; stderr: $(head -c 200 "$WORK/run.err" | tr '\n' '|')"
		rm -rf "$WORK"
		return 1
	fi
	limits=""
	[ -s "$WORK/run.err" ] && limits=" (stderr: $(head -c 120 "$WORK/run.err" | tr '\n' '|'))"
	echo "PASS          $head $name — $report$(usage run)$limits"
	rm -rf "$WORK"
	return 0
}

if [ $# = 0 ]; then
	set --
	for d in "$here"/*/; do
		[ -f "$d/language.conf" ] && set -- "$@" "$(basename "$d")"
	done
fi

failed=0
for slug in "$@"; do
	check_one "$slug" || failed=1
done
exit $failed
