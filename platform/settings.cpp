#include "platform/settings.h"

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

#include "util/units.h"

namespace platform {
namespace {

KeySpec spec(std::string name, KeyKind kind, std::string def, std::string help,
             bool required = false) {
  KeySpec k;
  k.name = std::move(name);
  k.kind = kind;
  k.default_value = std::move(def);
  k.help = std::move(help);
  k.required = required;
  return k;
}

}  // namespace

KeySpec integer_key(std::string name, std::uint64_t def, std::uint64_t min, std::uint64_t max,
                    std::string help) {
  KeySpec k = spec(std::move(name), KeyKind::integer, std::to_string(def), std::move(help));
  k.min = min;
  k.max = max;
  return k;
}

KeySpec port_key(std::string name, std::uint64_t window, std::string help) {
  KeySpec k = spec(std::move(name), KeyKind::integer, "", std::move(help), true);
  k.max = 0x10000 - window;
  k.hex = true;
  k.resource = Resource::io_window;
  k.window = window;
  return k;
}

KeySpec irq_key(std::string name, std::string help) {
  KeySpec k = spec(std::move(name), KeyKind::integer, "", std::move(help), true);
  k.max = 15;
  k.resource = Resource::irq;
  return k;
}

KeySpec dma_channel_key(std::string name, std::uint64_t def, std::string help) {
  KeySpec k = integer_key(std::move(name), def, 0, 15, std::move(help));
  k.resource = Resource::dma_channel;
  return k;
}

KeySpec size_key(std::string name, std::string def, std::string help) {
  return spec(std::move(name), KeyKind::size, std::move(def), std::move(help));
}
KeySpec duration_key(std::string name, std::string def, std::string help) {
  return spec(std::move(name), KeyKind::duration, std::move(def), std::move(help));
}
KeySpec frequency_key(std::string name, std::string def, std::string help) {
  return spec(std::move(name), KeyKind::frequency, std::move(def), std::move(help));
}
KeySpec fraction_key(std::string name, std::string def, std::string help) {
  return spec(std::move(name), KeyKind::fraction, std::move(def), std::move(help));
}
KeySpec choice_key(std::string name, std::vector<std::string> choices, std::string help) {
  KeySpec k = spec(std::move(name), KeyKind::choice, choices.front(), std::move(help));
  k.choices = std::move(choices);
  return k;
}
KeySpec boolean_key(std::string name, bool def, std::string help) {
  return spec(std::move(name), KeyKind::boolean, def ? "true" : "false", std::move(help));
}
KeySpec path_key(std::string name, std::string help, bool input, bool output) {
  KeySpec k = spec(std::move(name), KeyKind::path, "", std::move(help));
  k.input_file = input;
  k.beside_config = input;
  k.output_file = output;
  return k;
}
KeySpec name_key(std::string name, std::string def, std::string help) {
  return spec(std::move(name), KeyKind::name, std::move(def), std::move(help));
}
KeySpec text_key(std::string name, std::string def, std::string help) {
  return spec(std::move(name), KeyKind::text, std::move(def), std::move(help));
}
KeySpec list_key(std::string name, std::string def, std::string help) {
  return spec(std::move(name), KeyKind::list, std::move(def), std::move(help));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = util::trim(std::string_view(text).substr(start, end - start));
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

std::string parse_value(const KeySpec& spec, const std::string& raw, Settings::Value& v) {
  v.kind = spec.kind;
  v.text = util::trim(raw);
  const std::string& t = v.text;
  switch (spec.kind) {
    case KeyKind::integer:
      if (!util::parse_u64(t, v.number)) return fmt::format("expected an integer, got '{}'", t);
      if (v.number < spec.min || v.number > spec.max)
        return spec.hex ? fmt::format("{} is outside [{:#x}, {:#x}]", t, spec.min, spec.max)
                        : fmt::format("{} is outside [{}, {}]", t, spec.min, spec.max);
      break;
    case KeyKind::size:
      if (!util::parse_size(t, v.number) || v.number == 0)
        return fmt::format("expected a size such as 16MiB, got '{}'", t);
      break;
    case KeyKind::duration:
      if (!util::parse_duration_ps(t, v.number))
        return fmt::format("expected a duration such as 250ns or 10ms, got '{}'", t);
      break;
    case KeyKind::frequency:
      if (!util::parse_frequency_hz(t, v.number) || v.number == 0)
        return fmt::format("expected a frequency such as 100MHz, got '{}'", t);
      break;
    case KeyKind::fraction: {
      char* end = nullptr;
      v.real = std::strtod(t.c_str(), &end);
      if (t.empty() || end == nullptr || *end != '\0' || !(v.real >= 0.0 && v.real <= 1.0))
        return fmt::format("expected a fraction between 0 and 1, got '{}'", t);
      break;
    }
    case KeyKind::choice: {
      bool ok = false;
      for (const auto& c : spec.choices) ok = ok || c == t;
      if (!ok) return fmt::format("'{}' is not one of: {}", t, fmt::join(spec.choices, ", "));
      break;
    }
    case KeyKind::boolean:
      // The words a YAML user writes; not util::parse_bool's 1 and 0.
      if (t == "true" || t == "on" || t == "yes") {
        v.number = 1;
      } else if (t == "false" || t == "off" || t == "no") {
        v.number = 0;
      } else {
        return fmt::format("expected true or false, got '{}'", t);
      }
      break;
    case KeyKind::path:
      if (t.find('\0') != std::string::npos) return "a path cannot contain a NUL byte";
      break;
    case KeyKind::name:
      for (char c : t) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
          return fmt::format("'{}' is not a name (letters, digits, _ and -)", t);
      }
      break;
    case KeyKind::text:
    case KeyKind::list:
      break;
  }
  return {};
}

std::string Settings::set(const KeySpec& spec, const std::string& raw, const std::string& origin) {
  Value v;
  if (std::string err = parse_value(spec, raw, v); !err.empty()) return err;
  v.origin = origin;
  values_[spec.name] = std::move(v);
  return {};
}

void Settings::fill_defaults(const std::vector<KeySpec>& specs) {
  for (const auto& s : specs) {
    if (has(s.name) || s.required) continue;
    if (std::string err = set(s, s.default_value, "default"); !err.empty())
      throw std::logic_error(fmt::format("the default of key '{}' is bad: {}", s.name, err));
  }
}

const Settings::Value& Settings::get(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error(fmt::format("key '{}' was never set", key));
  return it->second;
}

std::uint64_t Settings::number(const std::string& key) const {
  return get(key).number;
}
double Settings::real(const std::string& key) const {
  return get(key).real;
}
const std::string& Settings::text(const std::string& key) const {
  return get(key).text;
}
std::vector<std::string> Settings::list(const std::string& key) const {
  return split_list(get(key).text);
}
std::string Settings::where(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::string("default") : it->second.origin;
}

const KeySpec* find_spec(const std::vector<KeySpec>& specs, const std::string& name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string default_text(const KeySpec& spec) {
  if (spec.required) return "(required)";
  if (spec.kind == KeyKind::list) return "[" + spec.default_value + "]";
  return spec.default_value.empty() ? "\"\"" : spec.default_value;
}

}  // namespace platform
