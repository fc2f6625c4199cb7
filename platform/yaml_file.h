#pragma once
// Reading the YAML (and JSON) files iocosim takes, with errors that name the file and line:
// configs, sweeps, golden folders' golden.yaml, statistics.
#include <string>

#include <yaml-cpp/yaml.h>

namespace platform {

// The document in `path`. Throws ConfigError: "PATH: cannot open WHAT" if it cannot be read,
// "PATH:LINE: PREFIXwhy" if it does not parse (prefix e.g. "not a statistics file: ").
YAML::Node load_yaml_file(const std::string& path, const std::string& what,
                          const std::string& prefix = {});
// Throws ConfigError "PATH:LINE: key 'KEY': WHY" for `node`'s line.
[[noreturn]] void key_error(const std::string& path, const YAML::Node& node, const std::string& key,
                            const std::string& why);

}  // namespace platform
