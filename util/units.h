#pragma once
// Parsing of the numbers people write in configs and scripts: 0x20, 250ns, 100MHz, 16MiB.
// Every parser returns false on anything it does not fully consume, so "10 ms x" is an error.
#include <cstdint>
#include <string>
#include <string_view>

namespace util {

// Decimal, 0x hexadecimal or 0b binary; an optional '_' between digits is ignored.
bool parse_u64(std::string_view text, std::uint64_t& out);
// A duration with a unit (ps, ns, us, ms, s); a bare 0 is accepted. Result in picoseconds.
bool parse_duration_ps(std::string_view text, std::uint64_t& out);
// A frequency with a unit (Hz, kHz, MHz, GHz), decimals allowed: 1.193182MHz.
bool parse_frequency_hz(std::string_view text, std::uint64_t& out);
// A size in bytes: a plain integer or with B, KiB, MiB, GiB.
bool parse_size(std::string_view text, std::uint64_t& out);
bool parse_bool(std::string_view text, bool& out);

std::string format_hz(std::uint64_t hz);
// A size in bytes as a config would write it: "16MiB", "4KiB", "1000B".
std::string format_size(std::uint64_t bytes);
std::string trim(std::string_view s);

}  // namespace util
