# Sourced by languages/*/install (bash): the steps every toolchain from a registry shares.
#
#   install_begin SLUG VERSION   exit 0 at once when /usr/local/lib/coderunner/SLUG holds
#                                VERSION; else make a scratch directory ($tmp, removed at
#                                exit) and the tree to fill ($out), and set $DIR
#   maven_fetch GROUP ARTIFACT VERSION
#                                Maven copies the artifact and its runtime dependencies into
#                                $out/compiler (a local repository of its own in $tmp:
#                                nothing is left in ~/.m2)
#   install_commit SLUG VERSION  write $out/.version, make the tree readable by every box
#                                uid, and put it in place of $DIR
#
# Toolchains live under /usr/local/lib/coderunner, inside the /usr the box sees.
BASE=/usr/local/lib/coderunner

install_begin() {
        DIR=$BASE/$1
        [ "$(cat "$DIR/.version" 2>/dev/null || true)" = "$2" ] && exit 0
        mkdir -p "$BASE"
        tmp=$(mktemp -d "$BASE/.$1.XXXXXX")
        trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
        out=$tmp/out
        mkdir "$out"
}

maven_fetch() {
        command -v mvn >/dev/null || { echo "$2: Maven (mvn) is needed: make languages installs it" >&2; exit 1; }
        cat >"$tmp/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.coderunner</groupId>
  <artifactId>toolchain</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>$1</groupId><artifactId>$2</artifactId><version>$3</version></dependency>
  </dependencies>
</project>
POM
        (cd "$tmp" && mvn -q -B -Dstyle.color=never -Dmaven.repo.local="$tmp/repo" dependency:copy-dependencies \
                -DoutputDirectory="$out/compiler" -DincludeScope=runtime)
        [ -f "$out/compiler/$2-$3.jar" ] || { echo "$2: Maven did not fetch $1:$2:$3" >&2; exit 1; }
}

install_commit() {
        echo "$2" >"$out/.version"
        chmod -R a+rX "$out"
        rm -rf "$DIR.old"
        [ ! -e "$DIR" ] || mv "$DIR" "$DIR.old"
        mv "$out" "$DIR"
        rm -rf "$DIR.old"
        echo "$1: $2 in $DIR"
}
