#include "platform/gtkw.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "fstapi.h"

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

// The first view: one device interrupt (not the timer's) that CPU 0 takes, from its line rising
// to the interrupted thread (or the one the DPC readied) running again at PASSIVE_LEVEL, with
// the landmarks between: the INTA cycle, the ISR's entry, the EOI (the controller's in-service
// bit clearing), the DPC's start. Times are 0 where a landmark was not found.
struct Window {
  std::uint64_t from = 0, to = 0, marker = 0;
  std::uint64_t rise = 0, inta = 0, isr = 0, isr_end = 0, eoi = 0, dpc = 0, resume = 0;
};

struct Codes {
  std::set<std::string> irqs;  // the device lines
  std::string irql, thread, inta, kind;
  std::set<std::string> in_service;  // the controllers' ISR registers
};

Window find_window(std::istream& in, const Codes& c) {
  Window w;
  std::uint64_t t = 0;
  bool risen = false, raised = false, lowered = false;
  std::uint64_t inta_at = ~std::uint64_t{0};
  std::map<std::string, std::uint64_t> in_service;  // last value of each ISR register
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      t = std::strtoull(line.c_str() + 1, nullptr, 10);
      if (risen && t > w.rise + 2'000'000'000ull) break;  // nothing within 2 ms: give up
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
    const std::uint64_t v = std::strtoull(value.c_str(), nullptr, 2);
    if (c.in_service.count(code)) {
      // The EOI: an in-service bit clears after the ISR has started.
      const std::uint64_t before = in_service[code];
      in_service[code] = v;
      if (risen && w.isr != 0 && w.eoi == 0 && (before & ~v) != 0) w.eoi = t;
    }
    if (!risen) {
      // The CPU's INTA may start at the very instant the line rises (an idle CPU), written
      // before the line in that instant's changes.
      if (code == c.inta && v == 1) inta_at = t;
      if (c.irqs.count(code) && value == "1") {
        risen = true;
        w.rise = t;
        if (inta_at == t) w.inta = t;
      }
      continue;
    }
    if (code == c.inta && v == 1 && w.inta == 0) w.inta = t;
    if (code == c.kind) {
      if (v == 1 && w.isr == 0 && w.inta != 0) w.isr = t;
      if (v != 1 && w.isr != 0 && w.isr_end == 0) w.isr_end = t;
      if (v == 2 && w.isr != 0 && w.dpc == 0) w.dpc = t;
    }
    if (code == c.irql) {
      if (v > 2) raised = true;
      if (raised && v == 0) lowered = true;
    }
    if (lowered && code == c.thread) {
      w.resume = t;
      break;
    }
    if (lowered && code == c.irql && w.resume == 0) w.resume = t;  // keep the latest drop so far
  }
  if (!risen) return w;
  std::uint64_t end = w.resume > w.rise ? w.resume : w.rise + 200'000'000ull;  // 200 us
  // Zoomed so the ISR is readable: it spans about a sixth of the view (the thread may resume
  // much later; its marker is there to jump to).
  if (w.isr != 0 && w.isr_end > w.isr) end = std::min(end, w.isr_end + 4 * (w.isr_end - w.isr));
  if (w.dpc != 0 && end < w.dpc)
    end = std::min(w.resume != 0 ? w.resume : w.dpc, w.dpc + (w.isr_end - w.isr));
  const std::uint64_t span = end - w.rise;
  w.marker = w.rise;
  w.from = w.rise > span / 10 ? w.rise - span / 10 : 0;
  w.to = end + span / 10;
  return w;
}

std::string filter_file(const std::string& base, const std::string& what,
                        const std::vector<std::pair<std::uint64_t, std::string>>& names,
                        std::vector<std::string>& errors) {
  const std::string path = base + "." + what + ".txt";
  std::string text = "# GTKWave translate filter written by iocosim run (values in decimal)\n";
  for (const auto& [v, n] : names) text += fmt::format("{} {}\n", v, n);
  if (std::string why = write_file(path, text); !why.empty()) errors.push_back(path + ": " + why);
  // Beside the save file, named relative to it: the view opens on any machine or folder.
  return std::filesystem::path(path).filename().string();
}

}  // namespace

std::string vcd_base(const std::string& vcd_path) {
  std::string base = vcd_path;
  if (base.size() > 4 && (base.compare(base.size() - 4, 4, ".vcd") == 0 ||
                          base.compare(base.size() - 4, 4, ".fst") == 0))
    base.resize(base.size() - 4);
  return base;
}

// An FST's declarations and its first `limit_ps` of value changes as VCD text (identifiers are
// the FST's handles): what the view is made from, read with the same code as a VCD.
bool fst_as_vcd(const std::string& path, std::uint64_t limit_ps, std::string& out) {
  void* ctx = fstReaderOpen(path.c_str());
  if (ctx == nullptr) return false;
  out.clear();
  std::map<fstHandle, std::uint32_t> widths;
  while (fstHier* h = fstReaderIterateHier(ctx)) {
    if (h->htyp == FST_HT_SCOPE) {
      out += fmt::format("$scope module {} $end\n", h->u.scope.name);
    } else if (h->htyp == FST_HT_UPSCOPE) {
      out += "$upscope $end\n";
    } else if (h->htyp == FST_HT_VAR) {
      out +=
          fmt::format("$var wire {} {} {} $end\n", h->u.var.length, h->u.var.handle, h->u.var.name);
      widths[h->u.var.handle] = h->u.var.length;
    }
  }
  out += "$enddefinitions $end\n";
  struct Sink {
    std::string* out;
    std::map<fstHandle, std::uint32_t>* widths;
    std::uint64_t t = ~std::uint64_t{0};
  } sink{&out, &widths};
  fstReaderSetFacProcessMaskAll(ctx);
  fstReaderSetLimitTimeRange(ctx, 0, limit_ps);
  fstReaderIterBlocks(
      ctx,
      [](void* user, std::uint64_t time, fstHandle handle, const unsigned char* value) {
        auto& s = *static_cast<Sink*>(user);
        if (time != s.t) {
          *s.out += fmt::format("#{}\n", time);
          s.t = time;
        }
        const char* v = reinterpret_cast<const char*>(value);
        if ((*s.widths)[handle] == 1)
          *s.out += fmt::format("{}{}\n", v, handle);
        else
          *s.out += fmt::format("b{} {}\n", v, handle);
      },
      &sink, nullptr);
  fstReaderClose(ctx);
  return true;
}

std::string write_gtkw(const std::string& vcd_path, const GtkwNames& names) {
  // An FST is read through fstapi, its first 100 ms (the view's interrupt is in them).
  std::string fst_text;
  const bool fst = vcd_path.size() > 4 && vcd_path.compare(vcd_path.size() - 4, 4, ".fst") == 0;
  if (fst && !fst_as_vcd(vcd_path, 100'000'000'000ull, fst_text))
    return vcd_path + ": cannot read the FST";
  std::ifstream file;
  std::istringstream text(fst_text);
  if (!fst) file.open(vcd_path);
  std::istream& in = fst ? static_cast<std::istream&>(text) : file;
  if (!fst && !file) return vcd_path + ": cannot read the VCD";
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
  Codes codes;
  for (unsigned irq : names.irqs)
    if (const Var* v = find(fmt::format("irq.{}", irq)); v && irq != names.timer_irq)
      codes.irqs.insert(v->code);
  auto code_of = [&](const char* path) {
    const Var* v = find(path);
    return v ? v->code : std::string();
  };
  codes.irql = code_of("cpu0.irql");
  codes.thread = code_of("cpu0.thread_id");
  codes.inta = code_of("cpu0.inta");
  codes.kind = code_of("cpu0.context_kind");
  for (const char* r : {"pic.master.isr", "pic.slave.isr", "lapic0.isrv"})
    if (const Var* v = find(r)) codes.in_service.insert(v->code);
  const Window w = find_window(in, codes);

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
  std::vector<std::pair<std::uint64_t, std::string>> routines(names.routines.begin(),
                                                              names.routines.end());
  if (!routines.empty()) add_filter("routine", routines);
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
    else if (on_cpu && leaf == "routine")
      kind = "routine";
    else if (on_cpu && leaf == "context_kind")
      kind = "context";
    else if (v.path == "bus.dma_mode")
      kind = "dma_mode";
    const auto it = filters.find(kind);
    return it == filters.end() ? nullptr : &it->second;
  };

  std::ostringstream s;
  s << "[*] iocosim: " << std::filesystem::path(names.title).filename().string()
    << " (written by iocosim run with the VCD; open with `gtkwave "
    << std::filesystem::path(gtkw).filename().string() << "`)\n";
  // Paths relative to the save file (the VCD and the filters are beside it): no path of the
  // machine that wrote it, so the folder can be moved, shared or opened from anywhere.
  // GTKWave finds the dump file from the save file's own location: the relative path from the
  // [savefile] it names to the [dumpfile] is applied where the save file is now.
  s << "[dumpfile] \"" << std::filesystem::path(vcd_path).filename().string() << "\"\n";
  s << "[savefile] \"" << std::filesystem::path(gtkw).filename().string() << "\"\n";
  s << "[timestart] " << w.from << "\n";
  s << "[size] 1600 900\n[pos] -1 -1\n";
  // Zoom: measured with GTKWave 3.3.118 on a ps VCD, zoom z shows 2^-z / 198 ps per pixel;
  // the wave pane of a 1600-pixel window is about 1000 pixels wide.
  const double span = w.to > w.from ? static_cast<double>(w.to - w.from) : 1e9;
  // Named markers A..F at the interrupt's landmarks (-1: not found), and their names.
  const std::pair<std::uint64_t, const char*> landmarks[] = {
      {w.rise, "IRQ_line_rises"}, {w.inta, "INTA"},
      {w.isr, "ISR_entry"},       {w.eoi, "EOI"},
      {w.dpc, "DPC_start"},       {w.resume, "thread_resumes"}};
  s << fmt::format("*{:.6f} {}", -std::log2(0.198 * span), w.marker);
  for (int i = 0; i < 26; ++i) {
    const std::uint64_t at = i < 6 ? landmarks[i].first : 0;
    s << (at != 0 ? " " + std::to_string(at) : std::string(" -1"));
  }
  s << "\n";
  for (int i = 0; i < 6; ++i)
    if (landmarks[i].first != 0)
      s << "[markername] " << static_cast<char>('A' + i) << landmarks[i].second << "\n";
  s << "[sst_width] 220\n[signals_width] 300\n[sst_expanded] 1\n[sst_vpaned_height] 200\n";

  // Groups, in the order people read an interrupt: CPUs, controllers, lines, devices, bus.
  std::set<std::string> shown;
  auto emit_var = [&](const Var& v) {
    if (!shown.insert(v.full).second) return;
    unsigned flags = v.width == 1 ? kBinary : (v.width <= 8 ? kHex : kDecimal);
    // An address register reads as an address.
    if (v.path.size() > 4 && v.path.compare(v.path.size() - 4, 4, ".cr3") == 0) flags = kHex;
    const Filter* f = filter_of(v);
    if (f != nullptr) flags = kDecimal | kTranslated;
    s << "@" << std::hex << flags << std::dec << "\n";
    if (f != nullptr) s << "^" << f->number << " " << f->file << "\n";
    // Shown by its path below the platform, with '/' (GTKWave cuts a name at its last dot).
    std::string alias = v.path;
    std::replace(alias.begin(), alias.end(), '.', '/');
    s << "+{" << alias << "} " << v.full << "\n";
  };
  auto group = [&](const std::string& title, const std::function<bool(const Var&)>& in_group,
                   const std::function<int(const Var&)>& order = {}) {
    std::vector<const Var*> members;
    for (const auto& v : vcd.vars)
      if (!shown.count(v.full) && in_group(v)) members.push_back(&v);
    if (members.empty()) return;
    if (order)
      std::stable_sort(members.begin(), members.end(),
                       [&](const Var* a, const Var* b) { return order(*a) < order(*b); });
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
  std::set<unsigned> lines(names.irqs.begin(), names.irqs.end());
  lines.insert(names.timer_irq);
  // A numbered input ("irq.14", "ioapic.irq.14"): its number, or -1.
  auto input_of = [](const std::string& path, const std::string& prefix) {
    if (path.compare(0, prefix.size(), prefix) != 0) return -1;
    const std::string n = path.substr(prefix.size());
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::atoi(n.c_str());
  };
  // The 8259A pair's priority: IRQ0, 1, then the slave's 8..15 (on the cascade input 2), 3..7.
  auto pc_priority = [](int irq) { return irq < 2 ? irq : irq >= 8 ? irq - 6 : irq + 7; };
  // The controllers: the 8259A pair, and of the I/O APIC only the inputs the machine uses, in
  // order.
  group(
      "interrupt controllers",
      [&](const Var& v) {
        if (under(v, "pic")) return true;
        const int pin = input_of(v.path, "ioapic.irq.");
        if (pin >= 0 && lines.count(static_cast<unsigned>(pin)) != 0) return true;
        if (pin >= 0) shown.insert(v.full);  // an I/O APIC input no device uses: left out
        return pin < 0 && (under(v, "ioapic") || v.path.compare(0, 6, "ioapic") == 0);
      },
      [&](const Var& v) {
        const int pin = input_of(v.path, "ioapic.irq.");
        return pin < 0 ? -1 : pin;
      });
  group(
      "IRQ lines the machine uses, in priority order",
      [&](const Var& v) {
        const int n = input_of(v.path, "irq.");
        return n >= 0 && lines.count(static_cast<unsigned>(n)) != 0;
      },
      [&](const Var& v) { return pc_priority(input_of(v.path, "irq.")); });
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
