#pragma once
// The GTKWave save file `iocosim run` writes next to its VCD (X.vcd -> X.gtkw), made from the
// VCD's own signal list so that it always matches the machine: the signals grouped (per CPU,
// interrupt controllers, the IRQ lines the run used, timer, each device, bus and DMA), each shown
// by its platform path (pic.master.irr, dma.ch1.count), translate filters for IRQL, context kind,
// thread names, DMA mode and device states, and a first view zoomed on one device interrupt from
// its line rising to the interrupted thread running again.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace platform {

struct GtkwNames {
  std::string title;                              // the config it shows
  std::vector<unsigned> irqs;                     // lines the config's devices use
  unsigned timer_irq = 0;                         // not the line the first view zooms on
  std::map<std::uint64_t, std::string> irqls;     // IRQL value -> name
  std::map<std::uint64_t, std::string> threads;   // thread id -> name
  std::map<std::uint64_t, std::string> routines;  // routine number -> "ISR disk0", ...
  // Per signal leaf of a device ("disk0.status"), a value's meaning.
  std::map<std::string, std::function<std::string(std::uint64_t)>> device_values;
};

// A VCD path without its ".vcd" (SystemC adds it; the view is named from it).
std::string vcd_base(const std::string& vcd_path);
// Writes X.gtkw and its filter files (X.gtkw.irql.txt, ...) beside `vcd_path`: "" or why not.
std::string write_gtkw(const std::string& vcd_path, const GtkwNames& names);

}  // namespace platform
