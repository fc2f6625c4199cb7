#include "platform/chart.h"

#include <algorithm>

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

}  // namespace

std::string svg_bar_chart(const std::string& title, const std::vector<std::string>& names,
                          const std::vector<ChartPanel>& panels) {
  const char* colors[] = {"#c0392b", "#2980b9", "#27ae60", "#8e44ad"};
  const int bars = std::max<int>(3, static_cast<int>(names.size()));
  // A bar's slot is as wide as its longest label (about 7 px a character at 12 px).
  std::size_t longest = 0;
  for (const auto& n : names) longest = std::max(longest, n.size());
  const int slot = std::max(80, static_cast<int>(longest) * 7 + 10);
  const int bw = slot - 15, pw = bars * slot + 20, ph = 220, top = 60, left = 20, gap = 30;
  const int n = static_cast<int>(panels.size());
  const int width = left * 2 + n * pw + (n - 1) * gap, height = top + ph + 90;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"24\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
      width, height, left, xml_escape(title));
  for (int p = 0; p < n; ++p) {
    const ChartPanel& panel = panels[static_cast<std::size_t>(p)];
    const int x0 = left + p * (pw + gap);
    double max = 0;
    for (double v : panel.values) max = std::max(max, v);
    if (max <= 0) max = 1;
    s += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n", x0, top - 12,
                     xml_escape(panel.label));
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", x0,
                     top + ph, x0 + pw, top + ph);
    for (std::size_t i = 0; i < panel.values.size() && i < names.size(); ++i) {
      const double v = panel.values[i];
      const int h = static_cast<int>(v / max * (ph - 20));
      const int x = x0 + 10 + static_cast<int>(i) * slot;
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", x,
                       top + ph - h, bw, h, colors[i % 4]);
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{:.4g}</text>\n", x + bw / 2,
                       top + ph - h - 4, v);
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x + bw / 2,
                       top + ph + 16, xml_escape(names[i]));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#555\">{}</text>\n", x0, top + ph + 36,
                     xml_escape(panel.unit));
  }
  s += "</svg>\n";
  return s;
}

}  // namespace platform
