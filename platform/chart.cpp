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

// A panel's value axis from `top` down `ph` pixels at x = `ax`: the line, a tick, a light grid
// line to `right` and a label at each round value up to `top_value`, and the base line.
void value_axis(std::string& s, int ax, int top, int ph, int right, double top_value, double step) {
  s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", ax, top,
                   ax, top + ph);
  for (double v = 0; v <= top_value * 1.0001; v += step) {
    const int y = top + ph - static_cast<int>(v / top_value * ph);
    s += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>"
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ddd\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#333\">{}</text>\n",
        ax - 4, y, ax, y, ax + 1, y, right, y, ax - 6, y + 4, readable_number(v));
  }
  s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", ax,
                   top + ph, right, top + ph);
}

}  // namespace

double nice_step(double max) {
  return tick_step(max > 0 ? max : 1);
}

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
    value_axis(s, ax, top, ph, x0 + pw, top_value, step);
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

namespace {

// A time column's display unit: the largest of s, ms, µs, ns, ps in which the largest value is
// at least 1. `base` is the column's own unit as a power of ten of a second (-12 for _ps).
struct DisplayUnit {
  std::string name;  // "" when the column is no time
  double scale = 1;  // column value * scale = shown value
  std::string label;
};

DisplayUnit display_unit(const std::string& column, double max) {
  DisplayUnit u{{}, 1, column};
  int base = 0;
  std::string stem;
  for (const auto& [suffix, power] :
       {std::pair{"_ps", -12}, {"_ns", -9}, {"_us", -6}, {"_ms", -3}, {"_s", 0}}) {
    const std::string sfx = suffix;
    if (column.size() > sfx.size() &&
        column.compare(column.size() - sfx.size(), sfx.size(), sfx) == 0) {
      base = power;
      stem = column.substr(0, column.size() - sfx.size());
      break;
    }
  }
  // "faults_per_s" is a rate, not a time.
  if (stem.empty() || (stem.size() > 4 && stem.compare(stem.size() - 4, 4, "_per") == 0)) return u;
  const double seconds = max * std::pow(10.0, base);
  static const std::pair<const char*, int> kUnits[] = {
      {"s", 0}, {"ms", -3}, {"µs", -6}, {"ns", -9}, {"ps", -12}};
  for (const auto& [name, power] : kUnits) {
    if (seconds >= std::pow(10.0, power) || power == -12) {
      u.name = name;
      u.scale = std::pow(10.0, base - power);
      u.label = stem + " (" + name + ")";
      return u;
    }
  }
  return u;
}

}  // namespace

std::string svg_sweep_chart(const std::string& title, const std::vector<std::string>& keys,
                            const std::vector<std::vector<std::string>>& points,
                            const std::vector<SweepPanel>& panels) {
  static const char* kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                  "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
  const std::size_t n = points.size();
  // The colour follows the first key's value; the labels under the bars are the other keys'.
  std::vector<std::string> groups;
  std::vector<std::size_t> color_of(n, 0);
  std::vector<std::string> labels(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string g = points[i].empty() ? "" : points[i][0];
    auto it = std::find(groups.begin(), groups.end(), g);
    if (it == groups.end()) it = groups.insert(groups.end(), g);
    color_of[i] = static_cast<std::size_t>(it - groups.begin());
    for (std::size_t k = 1; k < points[i].size(); ++k)
      labels[i] += (labels[i].empty() ? "" : " ") + points[i][k];
    if (points[i].size() <= 1) labels[i] = g;
  }
  std::size_t longest = 1;
  for (const auto& l : labels) longest = std::max(longest, l.size());
  const int slot = std::clamp(static_cast<int>(960 / std::max<std::size_t>(n, 1)), 12, 56);
  const bool rotate = static_cast<int>(longest) * 7 > slot;
  const int label_h = rotate ? static_cast<int>(longest) * 5 + 24 : 24;
  const int ph = 200, left = 20;
  const int panel_h = 40 + ph + label_h + 20;
  // The value axis is as wide as its longest label.
  std::vector<DisplayUnit> units;
  std::vector<double> tops, steps;
  std::size_t widest = 1;
  for (const auto& p : panels) {
    double max = 0;
    for (const auto& v : p.values)
      if (v) max = std::max(max, *v);
    DisplayUnit u = display_unit(p.label, max);
    double shown = max * u.scale;
    if (shown <= 0) shown = 1;
    const double step = tick_step(shown);
    const double top = std::ceil(shown / step) * step;
    for (double v = 0; v <= top * 1.0001; v += step)
      widest = std::max(widest, readable_number(v).size());
    units.push_back(u);
    tops.push_back(top);
    steps.push_back(step);
  }
  const int axis = static_cast<int>(widest) * 7 + 16;
  const int plot_w = static_cast<int>(n) * slot + 10;
  const int legend_h = 22 * static_cast<int>((groups.size() + 5) / 6) + 10;
  const int width = std::max(left * 2 + axis + plot_w, 480);
  const int height = 50 + legend_h + static_cast<int>(panels.size()) * panel_h;
  std::string keys_text;
  for (const auto& k : keys) keys_text += (keys_text.empty() ? "" : ", ") + k;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n"
      "<text x=\"{}\" y=\"40\" fill=\"#333\">{} points; bars coloured by {}{}</text>\n",
      width, height, left, xml_escape(title), left, n, xml_escape(keys.empty() ? "" : keys[0]),
      keys.size() > 1 ? xml_escape(", labelled with " + keys_text.substr(keys[0].size() + 2)) : "");
  // The legend: the first key, then its values with their colours, wrapped to the width.
  {
    const std::string head = (keys.empty() ? std::string("point") : keys[0]) + ":";
    s += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>\n", left, 64,
                     xml_escape(head));
    int x = left + static_cast<int>(head.size()) * 8 + 14, y = 52;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const int w = static_cast<int>(groups[g].size()) * 7 + 34;
      if (x + w > width - left && x > left + 100) {
        x = left + static_cast<int>(head.size()) * 8 + 14;
        y += 22;
      }
      s += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"{}\"/><text x=\"{}\" "
          "y=\"{}\">{}</text>\n",
          x, y, kColors[g % 8], x + 20, y + 12, xml_escape(groups[g]));
      x += w;
    }
  }
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const SweepPanel& panel = panels[p];
    const DisplayUnit& u = units[p];
    const int top = 50 + legend_h + static_cast<int>(p) * panel_h + 30;
    const int ax = left + axis;
    auto y_of = [&](double v) { return top + ph - static_cast<int>(v / tops[p] * ph); };
    s += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{}</text>"
        "<text x=\"{}\" y=\"{}\" fill=\"#666\">  {}</text>\n",
        left, top - 12, xml_escape(u.label), left + 8 * static_cast<int>(u.label.size()) + 10,
        top - 12, xml_escape(panel.path));
    value_axis(s, ax, top, ph, ax + plot_w, tops[p], steps[p]);
    for (std::size_t i = 0; i < n; ++i) {
      const int x = ax + 6 + static_cast<int>(i) * slot;
      const int bw = std::max(4, slot - 4);
      std::string tip = fmt::format("point {}:", i);
      for (std::size_t k = 0; k < keys.size() && k < points[i].size(); ++k)
        tip += fmt::format(" {}={}", keys[k], points[i][k]);
      const auto& v = i < panel.values.size() ? panel.values[i] : std::nullopt;
      if (v) {
        const double shown = *v * u.scale;
        const int y = y_of(shown);
        s += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {}{}</title>"
            "</rect>\n",
            x, y, bw, top + ph - y, kColors[color_of[i] % 8], xml_escape(tip),
            readable_number(shown), u.name.empty() ? "" : " " + u.name);
      } else {
        s += fmt::format(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#c00\">×<title>{}: failed or "
            "missing</title></text>\n",
            x + bw / 2, top + ph - 4, xml_escape(tip));
      }
      const int ly = top + ph + 14;
      if (rotate)
        s += fmt::format(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"10\" "
            "transform=\"rotate(-45 {} {})\">{}</text>\n",
            x + bw / 2, ly, x + bw / 2, ly, xml_escape(labels[i]));
      else
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", x + bw / 2,
                         ly, xml_escape(labels[i]));
    }
  }
  s += "</svg>\n";
  return s;
}

}  // namespace platform
