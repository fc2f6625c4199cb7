#include "platform/gtkw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "platform/child.h"

namespace platform {
namespace {

struct Var {
  std::string path;  // below the platform: "pic.master.irr"
  std::string full;  // as GTKWave names it: "SystemC.platform.pic.master.irr[7:0]"
  std::string code;
  unsigned width = 1;
};

// GTKWave's trace flags (its save-file '@' lines).
constexpr unsigned kBinary = 0x28, kHex = 0x22, kDecimal = 0x24, kTranslated = 0x2000;
constexpr unsigned kGroupBegin = 0x800200, kGroupEnd = 0x1000200;

// The VCD's variables, in their order, and the value changes of the few the first view needs.
struct Vcd {
  std::vector<Var> vars;
  std::size_t header_end = 0;
};

bool read_header(std::istream& in, Vcd& vcd) {
  std::vector<std::string> scope;
  std::string word;
  while (in >> word) {
    if (word == "$scope") {
      std::string kind, name;
      in >> kind >> name;
      scope.push_back(name);
    } else if (word == "$upscope") {
      if (!scope.empty()) scope.pop_back();
    } else if (word == "$var") {
      std::string type, code, name, rest;
      Var v;
      in >> type >> v.width >> code >> name;
      std::string range;
      in >> rest;
      if (rest != "$end") {
        range = rest;
        in >> rest;
      }
      v.code = code;
      std::string joined;
      for (const auto& s : scope) joined += s + ".";
      v.full = joined + name + range;
      // Below SystemC.platform (the platform's own path, as the event log names models).
      const std::string prefix = "SystemC.platform.";
      v.path = joined.compare(0, prefix.size(), prefix) == 0 ? joined.substr(prefix.size()) + name
                                                             : joined + name;
      vcd.vars.push_back(v);
    } else if (word == "$enddefinitions") {
      return true;
    }
  }
  return false;
}

// The first view: from a device IRQ line rising (not the timer's) to the thread that ran before
// the interrupt, or the one the DPC readied, running again at PASSIVE_LEVEL.
struct Window {
  std::uint64_t from = 0, to = 0, marker = 0;
};

Window find_window(std::istream& in, const Vcd& vcd, const std::set<std::string>& irq_codes,
                   const std::string& irql_code, const std::string& thread_code) {
  Window w;
  std::uint64_t t = 0, rise = 0;
  bool risen = false, raised = false, lowered = false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      t = std::strtoull(line.c_str() + 1, nullptr, 10);
      if (risen && t > rise + 2'000'000'000ull) break;  // nothing within 2 ms: give up
      continue;
    }
    std::string value, code;
    if (line[0] == 'b') {
      const auto space = line.find(' ');
      if (space == std::string::npos) continue;
      value = line.substr(1, space - 1);
      code = line.substr(space + 1);
    } else {
      value = line.substr(0, 1);
      code = line.substr(1);
    }
    if (!risen) {
      if (irq_codes.count(code) && value == "1") {
        risen = true;
        rise = t;
      }
      continue;
    }
    if (code == irql_code) {
      const auto v = std::strtoull(value.c_str(), nullptr, 2);
      if (v > 2) raised = true;
      if (raised && v == 0) lowered = true;
    }
    if (lowered && code == thread_code) {
      w.to = t;
      break;
    }
    if (lowered && code == irql_code && w.to == 0) w.to = t;  // keep the latest drop so far
  }
  if (!risen) return w;
  if (w.to <= rise) w.to = rise + 200'000'000ull;  // 200 us
  const std::uint64_t span = w.to - rise;
  w.marker = rise;
  w.from = rise > span / 10 ? rise - span / 10 : 0;
  w.to += span / 10;
  return w;
}

std::string filter_file(const std::string& base, const std::string& what,
                        const std::vector<std::pair<std::uint64_t, std::string>>& names,
                        std::vector<std::string>& errors) {
  const std::string path = base + "." + what + ".txt";
  std::string text = "# GTKWave translate filter written by iocosim run (values in decimal)\n";
  for (const auto& [v, n] : names) text += fmt::format("{} {}\n", v, n);
  if (std::string why = write_file(path, text); !why.empty()) errors.push_back(path + ": " + why);
  return std::filesystem::absolute(path).string();
}

}  // namespace

std::string vcd_base(const std::string& vcd_path) {
  std::string base = vcd_path;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0)
    base.resize(base.size() - 4);
  return base;
}

std::string write_gtkw(const std::string& vcd_path, const GtkwNames& names) {
  std::ifstream in(vcd_path);
  if (!in) return vcd_path + ": cannot read the VCD";
  Vcd vcd;
  // SystemC writes nothing when a run is stopped before its first cycle (Ctrl-C in start-up):
  // no signals, no view.
  if (!read_header(in, vcd)) return {};
  const std::string base = vcd_base(vcd_path);
  const std::string gtkw = base + ".gtkw";

  auto find = [&](const std::string& path) -> const Var* {
    for (const auto& v : vcd.vars)
      if (v.path == path) return &v;
    return nullptr;
  };
  std::set<std::string> irq_codes;
  for (unsigned irq : names.irqs)
    if (const Var* v = find(fmt::format("irq.{}", irq)); v && irq != names.timer_irq)
      irq_codes.insert(v->code);
  const Var* irql = find("cpu0.irql");
  const Var* thread = find("cpu0.thread_id");
  const Window w =
      find_window(in, vcd, irq_codes, irql ? irql->code : "", thread ? thread->code : "");

  std::vector<std::string> errors;
  // Translate filters, numbered as the save file declares them.
  std::vector<std::pair<std::uint64_t, std::string>> irqls(names.irqls.begin(), names.irqls.end());
  std::vector<std::pair<std::uint64_t, std::string>> threads(names.threads.begin(),
                                                             names.threads.end());
  std::vector<std::pair<std::uint64_t, std::string>> kinds = {
      {0, "thread"}, {1, "ISR"}, {2, "DPC"}, {3, "idle"}};
  std::vector<std::pair<std::uint64_t, std::string>> dma = {
      {0, "-"}, {1, "burst"}, {2, "cycle-stealing"}, {3, "transparent"}};
  struct Filter {
    std::string file;
    int number;
  };
  std::map<std::string, Filter> filters;  // by kind
  int next_filter = 1;
  auto add_filter = [&](const std::string& kind,
                        const std::vector<std::pair<std::uint64_t, std::string>>& list) {
    filters[kind] = {filter_file(base, kind, list, errors), next_filter++};
  };
  if (!irqls.empty()) add_filter("irql", irqls);
  if (!threads.empty()) add_filter("threads", threads);
  add_filter("context", kinds);
  add_filter("dma_mode", dma);
  for (const auto& [signal, describe] : names.device_values) {
    if (find(signal) == nullptr) continue;
    std::vector<std::pair<std::uint64_t, std::string>> values;
    for (std::uint64_t v = 0; v < 256; ++v) values.emplace_back(v, describe(v));
    add_filter(signal, values);
  }
  auto filter_of = [&](const Var& v) -> const Filter* {
    const std::string leaf = v.path.substr(v.path.rfind('.') + 1);
    const bool on_cpu = v.path.compare(0, 3, "cpu") == 0;
    std::string kind;
    if (filters.count(v.path))
      kind = v.path;
    else if (on_cpu && leaf == "irql")
      kind = "irql";
    else if (on_cpu && leaf == "thread_id")
      kind = "threads";
    else if (on_cpu && leaf == "context_kind")
      kind = "context";
    else if (v.path == "bus.dma_mode")
      kind = "dma_mode";
    const auto it = filters.find(kind);
    return it == filters.end() ? nullptr : &it->second;
  };

  std::ostringstream s;
  s << "[*] iocosim: " << names.title << " (written by iocosim run with the VCD; open with "
    << "`gtkwave " << vcd_path << " " << gtkw << "`)\n";
  s << "[dumpfile] \"" << std::filesystem::absolute(vcd_path).string() << "\"\n";
  s << "[savefile] \"" << std::filesystem::absolute(gtkw).string() << "\"\n";
  s << "[timestart] " << w.from << "\n";
  s << "[size] 1600 900\n[pos] -1 -1\n";
  // Zoom: measured with GTKWave 3.3.118 on a ps VCD, zoom z shows 2^-z / 198 ps per pixel;
  // the wave pane of a 1600-pixel window is about 1000 pixels wide.
  const double span = w.to > w.from ? static_cast<double>(w.to - w.from) : 1e9;
  s << fmt::format("*{:.6f} {}", -std::log2(0.198 * span), w.marker);
  for (int i = 0; i < 26; ++i) s << " -1";
  s << "\n[sst_width] 220\n[signals_width] 300\n[sst_expanded] 1\n[sst_vpaned_height] 200\n";

  // Groups, in the order people read an interrupt: CPUs, controllers, lines, devices, bus.
  std::set<std::string> shown;
  auto emit_var = [&](const Var& v) {
    if (!shown.insert(v.full).second) return;
    unsigned flags = v.width == 1 ? kBinary : (v.width <= 8 ? kHex : kDecimal);
    const Filter* f = filter_of(v);
    if (f != nullptr) flags = kDecimal | kTranslated;
    s << "@" << std::hex << flags << std::dec << "\n";
    if (f != nullptr) s << "^" << f->number << " " << f->file << "\n";
    // Shown by its path below the platform, with '/' (GTKWave cuts a name at its last dot).
    std::string alias = v.path;
    std::replace(alias.begin(), alias.end(), '.', '/');
    s << "+{" << alias << "} " << v.full << "\n";
  };
  auto group = [&](const std::string& title, const std::function<bool(const Var&)>& in_group) {
    std::vector<const Var*> members;
    for (const auto& v : vcd.vars)
      if (!shown.count(v.full) && in_group(v)) members.push_back(&v);
    if (members.empty()) return;
    s << "@" << std::hex << kGroupBegin << std::dec << "\n-" << title << "\n";
    for (const Var* v : members) emit_var(*v);
    s << "@" << std::hex << kGroupEnd << std::dec << "\n-" << title << "\n";
  };
  auto under = [](const Var& v, const std::string& prefix) {
    return v.path.compare(0, prefix.size() + 1, prefix + ".") == 0;
  };
  std::set<std::string> cpus;
  for (const auto& v : vcd.vars)
    if (v.path.compare(0, 3, "cpu") == 0) cpus.insert(v.path.substr(0, v.path.find('.')));
  for (const auto& cpu : cpus) {
    const std::string lapic = "lapic" + cpu.substr(3);
    group(cpu, [&](const Var& v) { return under(v, cpu) || under(v, lapic); });
  }
  group("interrupt controllers", [&](const Var& v) {
    return under(v, "pic") || under(v, "ioapic") || v.path.compare(0, 6, "ioapic") == 0;
  });
  std::set<unsigned> lines(names.irqs.begin(), names.irqs.end());
  lines.insert(names.timer_irq);
  group("IRQ lines the machine uses", [&](const Var& v) {
    if (!under(v, "irq")) return false;
    const std::string n = v.path.substr(4);
    return n.find_first_not_of("0123456789") == std::string::npos &&
           lines.count(static_cast<unsigned>(std::stoul(n)));
  });
  group("timer", [&](const Var& v) { return under(v, "timer"); });
  group("bus and DMA", [&](const Var& v) { return under(v, "bus") || under(v, "dma"); });
  // Each device (what is left under the platform, by its instance name).
  std::vector<std::string> devices;
  for (const auto& v : vcd.vars) {
    const std::string top = v.path.substr(0, v.path.find('.'));
    if (shown.count(v.full) || top == "irq" || top == v.path) continue;
    if (std::find(devices.begin(), devices.end(), top) == devices.end()) devices.push_back(top);
  }
  for (const auto& d : devices) group(d, [&](const Var& v) { return under(v, d); });
  if (std::string why = write_file(gtkw, s.str()); !why.empty())
    errors.push_back(gtkw + ": " + why);
  return errors.empty() ? std::string{} : errors.front();
}

}  // namespace platform
