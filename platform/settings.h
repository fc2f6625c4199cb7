#pragma once
// Keys a component declares (a device type, a driver type, a workload type) and the values one
// use of it has. A key is declared once — name, kind, default, meaning, and for device keys the
// resource it claims — and that declaration parses config files and --set, checks resources
// across instances, lists `iocosim keys` and writes the reference in docs/config.md.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace platform {

enum class KeyKind {
  integer,
  size,
  duration,
  frequency,
  fraction,
  choice,
  boolean,
  path,
  name,
  text,
  list
};

// What a device key claims on the machine; the platform checks claims across all instances.
enum class Resource { none, io_window, irq, dma_channel };

struct KeySpec {
  std::string name;
  KeyKind kind = KeyKind::integer;
  std::string default_value;  // as it would be written in a config
  std::string help;
  bool required = false;  // no default: every instance gives it
  std::uint64_t min = 0, max = UINT64_MAX;
  bool hex = false;
  std::vector<std::string> choices;
  Resource resource = Resource::none;
  std::uint64_t window = 0;    // io_window: ports from the key's value
  bool input_file = false;     // path: read only; no output may name it (inputs may share)
  bool in_place = false;       // path: read and written in place (a disk image); no other key
  bool output_file = false;    // path: written; may not name an input or another output
  bool beside_config = false;  // path: relative to the config file's folder, not the cwd
};

// Builders, so a declaration reads as one line.
KeySpec integer_key(std::string name, std::uint64_t def, std::uint64_t min, std::uint64_t max,
                    std::string help);
KeySpec port_key(std::string name, std::uint64_t window, std::string help);  // required, hex
KeySpec irq_key(std::string name, std::string help);                         // required, 0..15
KeySpec dma_channel_key(std::string name, std::uint64_t def, std::string help);
KeySpec size_key(std::string name, std::string def, std::string help);
KeySpec duration_key(std::string name, std::string def, std::string help);
KeySpec frequency_key(std::string name, std::string def, std::string help);
KeySpec fraction_key(std::string name, std::string def, std::string help);
KeySpec choice_key(std::string name, std::vector<std::string> choices, std::string help);
KeySpec boolean_key(std::string name, bool def, std::string help);
// `input`: a file shipped with a config, found beside it; `output`: a file the run writes.
KeySpec path_key(std::string name, std::string help, bool input, bool output);
KeySpec name_key(std::string name, std::string def, std::string help);  // an instance's name
KeySpec text_key(std::string name, std::string def, std::string help);  // any string
KeySpec list_key(std::string name, std::string def, std::string help);

// The values of declared keys, each parsed when set and remembered with where it was set.
class Settings {
 public:
  struct Value {
    KeyKind kind = KeyKind::integer;
    std::string text;          // as given (trimmed)
    std::uint64_t number = 0;  // integer, size, duration (ps), frequency (Hz), boolean
    double real = 0;           // fraction
    std::string origin;        // "file:line", "--set" or "default"
  };

  // Checks `text` against `spec` and stores it. Returns "" or why not.
  std::string set(const KeySpec& spec, const std::string& text, const std::string& origin);
  // Sets every declared key not yet set to its default (required keys excepted).
  void fill_defaults(const std::vector<KeySpec>& specs);

  bool has(const std::string& key) const { return values_.count(key) != 0; }
  void erase(const std::string& key) { values_.erase(key); }
  // Typed reads of a declared key; reading an undeclared key is a programming error in the
  // component that declared the keys (it throws std::logic_error naming the key).
  std::uint64_t number(const std::string& key) const;
  unsigned u32(const std::string& key) const { return static_cast<unsigned>(number(key)); }
  double real(const std::string& key) const;
  bool flag(const std::string& key) const { return number(key) != 0; }
  const std::string& text(const std::string& key) const;
  std::vector<std::string> list(const std::string& key) const;
  std::string where(const std::string& key) const;
  const std::map<std::string, Value>& values() const { return values_; }

 private:
  const Value& get(const std::string& key) const;
  std::map<std::string, Value> values_;
};

// Parses `text` (trimmed) as `spec` says into `out`: "" or why not. The one parser of every
// key's value, declared by a type or in the platform's own schema (config.cpp).
std::string parse_value(const KeySpec& spec, const std::string& text, Settings::Value& out);

const KeySpec* find_spec(const std::vector<KeySpec>& specs, const std::string& name);
// How a key's default reads in `iocosim keys` and docs/config.md.
std::string default_text(const KeySpec& spec);
std::vector<std::string> split_list(const std::string& text);

}  // namespace platform
