#pragma once
// The comparisons' and sweeps' charts: panels of bars side by side, one bar per variant, each
// panel with a value axis (ticks at round numbers, the unit named as in the table) and, where
// the model has a formula, the analytic value drawn beside the simulated one; a standalone SVG
// (no library, opens in any browser).
#include <optional>
#include <string>
#include <vector>

namespace platform {

struct ChartPanel {
  std::string label, unit;     // "transfer time", "µs" (the table's quantity and unit)
  std::vector<double> values;  // one per variant, in the names' order
  // Analytic values, one per variant (empty: none): a dashed mark across the bar.
  std::vector<double> reference = {};
  std::string reference_label = "analytic";
};

// An SVG with `title` above one panel per entry of `panels`, each bar labelled with its value
// and its variant's name; `per_row` panels side by side (0 = all in one row).
std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& names,
                          const std::vector<ChartPanel>& panels, int per_row = 0);

// One collected statistic of a sweep: a value per point (none: the point failed, or its run
// wrote no such value).
struct SweepPanel {
  std::string label, path;  // the column ("transfer_ps") and where it comes from
  std::vector<std::optional<double>> values;
};

// A sweep's chart: a panel per column, a bar per point, coloured by the first swept key's value
// (with a legend) and labelled with the other keys' values; times (columns ending in _ps, _us,
// _s) shown in a readable unit; the value axis as wide as its labels; a failed point a mark
// with no bar. Each bar's tooltip names its point.
std::string svg_sweep_chart(const std::string& title, const std::vector<std::string>& keys,
                            const std::vector<std::vector<std::string>>& points,
                            const std::vector<SweepPanel>& panels);

// A round step for about five ticks up to `max` (1, 2 or 5 times a power of ten).
double nice_step(double max);

// A number as people read it: integers with thousands separators (524,288), others with three
// significant digits (0.0523, 12.3), never in exponent notation.
std::string readable_number(double v);

}  // namespace platform
