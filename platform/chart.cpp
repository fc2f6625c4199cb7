#include "platform/chart.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace platform {
namespace {

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') {
      o += "&lt;";
    } else if (c == '>') {
      o += "&gt;";
    } else if (c == '&') {
      o += "&amp;";
    } else {
      o += c;
    }
  }
  return o;
}

// A round step for about five ticks up to `max` (1, 2 or 5 times a power of ten).
double tick_step(double max) {
  const double raw = max / 5;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * power) return m * power;
  return 10 * power;
}

}  // namespace

std::string readable_number(double v) {
  if (!std::isfinite(v)) return "-";
  const double a = std::fabs(v);
  if (a >= 1000 || (a >= 1 && std::fabs(v - std::round(v)) < 1e-9)) {
    // Whole (or large) numbers: digits grouped by thousands.
    const auto n = static_cast<long long>(std::llround(a));
    std::string digits = std::to_string(n), out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return (v < 0 ? "-" : "") + out;
  }
  if (a == 0) return "0";
  // Three significant digits, fixed notation.
  const int decimals = std::max(0, 2 - static_cast<int>(std::floor(std::log10(a))));
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& names,
                          const std::vector<ChartPanel>& panels, int per_row) {
  const char* colors[] = {"#c0392b", "#2980b9", "#27ae60", "#8e44ad"};
  const int bars = std::max<int>(3, static_cast<int>(names.size()));
  // A bar's slot is as wide as its longest label (about 7 px a character at 12 px).
  std::size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, n.size());
  const int slot = std::max(80, static_cast<int>(longest) * 7 + 10);
  const int axis = 70;  // room for the value axis' labels
  const int bw = slot - 15, pw = axis + bars * slot + 20, ph = 220, left = 20, gap = 30;
  const int n = static_cast<int>(panels.size());
  const int cols = per_row > 0 ? std::min(per_row, n) : n;
  const int rows = (n + cols - 1) / cols;
  const int row_h = ph + 110;
  bool any_reference = false;
  for (const auto& p : panels) any_reference |= !p.reference.empty();
  const int width = left * 2 + cols * pw + (cols - 1) * gap;
  const int height = (rows - 1) * row_h + 70 + ph + (any_reference ? 95 : 75);
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
      width, height, left, xml_escape(title));
  for (int p = 0; p < n; ++p) {
    const ChartPanel& panel = panels[static_cast<std::size_t>(p)];
    const int x0 = left + (p % cols) * (pw + gap), ax = x0 + axis;
    const int top = 70 + (p / cols) * row_h;
    double max = 0;
    for (double v : panel.values) max = std::max(max, v);
    for (double v : panel.reference) max = std::max(max, v);
    if (max <= 0) max = 1;
    const double step = tick_step(max);
    const double top_value = std::ceil(max / step) * step;
    auto y_of = [&](double v) { return top + ph - static_cast<int>(v / top_value * ph); };
    s += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}{}</text>\n", x0, top - 22,
                     xml_escape(panel.label),
                     panel.unit.empty() ? "" : " (" + xml_escape(panel.unit) + ")");
    // The value axis: a line, ticks at round values with their labels, light grid lines.
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", ax, top,
                     ax, top + ph);
    for (double v = 0; v <= top_value * 1.0001; v += step) {
      const int y = y_of(v);
      s += fmt::format(
          "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>"
          "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\"/>"
          "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
          ax - 4, y, ax, y, ax + 1, y, x0 + pw, y, ax - 6, y + 4, readable_number(v));
    }
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", ax,
                     top + ph, x0 + pw, top + ph);
    for (std::size_t i = 0; i < panel.values.size() && i < names.size(); ++i) {
      const double v = panel.values[i];
      const int y = y_of(v);
      const int x = ax + 10 + static_cast<int>(i) * slot;
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", x, y,
                       bw, top + ph - y, colors[i % 4]);
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x + bw / 2,
                       y - 4, readable_number(v));
      if (i < panel.reference.size()) {
        const int ry = y_of(panel.reference[i]);
        s += fmt::format(
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\" stroke-width=\"2\" "
            "stroke-dasharray=\"5,3\"><title>{}: {}</title></line>\n",
            x - 4, ry, x + bw + 4, ry, xml_escape(panel.reference_label),
            readable_number(panel.reference[i]));
      }
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x + bw / 2,
                       top + ph + 16, xml_escape(names[i]));
    }
  }
  const int top = 70 + (rows - 1) * row_h;  // the legend under the last row
  if (any_reference)
    s += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\" stroke-width=\"2\" "
        "stroke-dasharray=\"5,3\"/><text x=\"{}\" y=\"{}\">simulated: bars; analytic (the "
        "mode's formula): dashed</text>\n",
        left, top + ph + 50, left + 30, top + ph + 50, left + 38, top + ph + 54);
  s += "</svg>\n";
  return s;
}

}  // namespace platform
