# Sourced by the benchmarks that can measure an earlier revision beside the
# working tree (BEFORE=<git revision>): a change on a hot path is then
# measured before and after in one run, on the same machine, against the
# same baseline, instead of against figures another machine wrote down.

# build_revision REV: builds the release `millions` of git revision REV from
# a worktree of its own under target/revisions/ (kept, so a second run only
# rebuilds what changed) and prints the binary's path.
build_revision() {
  local rev source
  rev=$(git rev-parse --short "$1^{commit}") || { echo "error: no revision $1" >&2; return 1; }
  source=$PWD/target/revisions/$rev
  [ -d "$source" ] || git worktree add --detach --force "$source" "$rev" >&2
  # One target folder for every revision, started as a copy of the working
  # tree's release build: revisions share most of their dependency builds,
  # so only the project's own crates compile again (minutes, not a quarter
  # of an hour on two cores). A copy, not links: cargo rewrites files in place.
  if [ ! -d target/revisions/target/release ] && [ -d target/release/deps ]; then
    mkdir -p target/revisions/target
    cp -r target/release target/revisions/target/release
  fi
  CARGO_TARGET_DIR=$PWD/target/revisions/target \
    cargo build --release --quiet --manifest-path "$source/Cargo.toml" --bin millions >&2
  mkdir -p "$PWD/target/revisions/bin"
  cp "$PWD/target/revisions/target/release/millions" "$PWD/target/revisions/bin/millions-$rev"
  echo "$PWD/target/revisions/bin/millions-$rev"
}
