#pragma once
// The comparisons' charts: panels of bars side by side, one bar per variant, as a standalone
// SVG file (no library, opens in any browser).
#include <string>
#include <vector>

namespace platform {

struct ChartPanel {
  std::string label, unit;
  std::vector<double> values;  // one per variant, in the names' order
};

// An SVG with `title` above one panel per entry of `panels`, each bar labelled with its value
// and its variant's name.
std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& names,
                          const std::vector<ChartPanel>& panels);

}  // namespace platform
