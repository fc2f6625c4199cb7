#pragma once
// "Did you mean" for mistyped names (subcommands, config keys): the closest candidate by edit
// distance, when it is close enough to be a typo rather than another word.
#include <string>
#include <vector>

namespace util {

// Levenshtein distance (insertions, deletions, substitutions; a swap of neighbours counts 1).
std::size_t edit_distance(const std::string& a, const std::string& b);
// The closest of `candidates` within max(1, |word|/3) edits ("" if none), so "cpu.clok" finds
// "cpu.clock" but "foo" finds nothing.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean 'X'?)", or "" when nothing is close.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// `text` with its control characters other than newline and tab written as escapes ("\0",
// "\x1b"): a message quoting what a user wrote stays whole and readable (a NUL byte ended the
// message, what() being a C string).
std::string printable(const std::string& text);

}  // namespace util
