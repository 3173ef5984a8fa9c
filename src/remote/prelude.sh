# shellcheck shell=sh
# The start of every remote script (src/remote/script.ts assembles them: prelude, libraries, settings,
# body). POSIX sh only: hosts run it with dash, bash or busybox ash; the unit tests run dash and busybox.

export LC_ALL=C
# The host's own tools, whatever the login environment says. (The unit tests set PATH again in the
# script's settings, to put their stub postfix, postconf... first.)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# One record per line: KIND<TAB>VALUE. src/remote/records.ts is the one reader.
emit() { printf '%s\t%s\n' "$1" "$2"; }

# Command output as one line, for a record.
oneline() { printf '%s' "$1" | tr '\n' ' '; }
