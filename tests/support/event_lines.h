#pragma once
// Reading an event log (docs/event-log.md) in tests: its lines, and one field of a line.
#include <fstream>
#include <string>
#include <vector>

namespace tests {

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// The value of `key` in a JSON-lines event: a string's contents, or a number's or bool's text;
// "" when the line has no such key.
inline std::string field(const std::string& line, const std::string& key) {
  auto k = line.find("\"" + key + "\":");
  if (k == std::string::npos) return {};
  auto v = k + key.size() + 3;
  if (line[v] == '"') return line.substr(v + 1, line.find('"', v + 1) - v - 1);
  return line.substr(v, line.find_first_of(",}", v) - v);
}

}  // namespace tests
