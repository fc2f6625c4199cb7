// Key declarations (platform/settings.h): what each kind accepts, what it refuses and how it
// says so, defaults, and the typed reads components make.
#include "platform/settings.h"

#include <gtest/gtest.h>

namespace {

using platform::KeySpec;
using platform::Settings;

std::string set(Settings& s, const KeySpec& k, const std::string& text) {
  return s.set(k, text, "test:1");
}

TEST(Settings, IntegersKeepTheirRangeAndSayItInTheirBase) {
  Settings s;
  const KeySpec fifo = platform::integer_key("fifo", 16, 1, 4096, "depth");
  EXPECT_EQ(set(s, fifo, "0x20"), "");
  EXPECT_EQ(s.number("fifo"), 32u);
  EXPECT_EQ(set(s, fifo, "0"), "0 is outside [1, 4096]");
  EXPECT_EQ(set(s, fifo, "many"), "expected an integer, got 'many'");
  EXPECT_EQ(s.number("fifo"), 32u) << "a refused value leaves the old one";
  const KeySpec port = platform::port_key("port", 0x10, "window");
  EXPECT_TRUE(port.required);
  EXPECT_EQ(port.resource, platform::Resource::io_window);
  EXPECT_EQ(set(s, port, "0xfff8"), "0xfff8 is outside [0x0, 0xfff0]") << "the window must fit";
  EXPECT_EQ(set(s, platform::irq_key("irq", "line"), "16"), "16 is outside [0, 15]");
}

TEST(Settings, UnitsParseToPicosecondsHertzAndBytes) {
  Settings s;
  EXPECT_EQ(set(s, platform::duration_key("t", "1us", ""), "1.5us"), "");
  EXPECT_EQ(s.number("t"), 1'500'000u);
  EXPECT_NE(set(s, platform::duration_key("t", "1us", ""), "soon"), "");
  EXPECT_EQ(set(s, platform::frequency_key("f", "1MHz", ""), "1.193182MHz"), "");
  EXPECT_EQ(s.number("f"), 1'193'182u);
  EXPECT_EQ(set(s, platform::size_key("z", "1MiB", ""), "4MiB"), "");
  EXPECT_EQ(s.number("z"), 4u << 20);
  EXPECT_EQ(set(s, platform::size_key("z", "1MiB", ""), "0"),
            "expected a size such as 16MiB, got '0'");
  EXPECT_EQ(set(s, platform::fraction_key("x", "0.5", ""), "0.25"), "");
  EXPECT_DOUBLE_EQ(s.real("x"), 0.25);
  EXPECT_NE(set(s, platform::fraction_key("x", "0.5", ""), "1.5"), "");
}

TEST(Settings, ChoicesBooleansNamesTextAndLists) {
  Settings s;
  const KeySpec mode = platform::choice_key("mode", {"dma", "pio"}, "");
  EXPECT_EQ(mode.default_value, "dma") << "the first choice is the default";
  EXPECT_EQ(set(s, mode, "usb"), "'usb' is not one of: dma, pio");
  EXPECT_EQ(set(s, platform::boolean_key("b", false, ""), "yes"), "");
  EXPECT_TRUE(s.flag("b"));
  EXPECT_EQ(set(s, platform::boolean_key("b", false, ""), "maybe"),
            "expected true or false, got 'maybe'");
  EXPECT_EQ(set(s, platform::boolean_key("b", false, ""), "0"), "expected true or false, got '0'")
      << "the words, as the platform's own keys take them";
  EXPECT_EQ(set(s, platform::name_key("n", "", ""), "disk.1"),
            "'disk.1' is not a name (letters, digits, _ and -)");
  EXPECT_EQ(set(s, platform::text_key("t", "", ""), "hello, world."), "");
  EXPECT_EQ(s.text("t"), "hello, world.");
  EXPECT_EQ(set(s, platform::list_key("l", "", ""), "a, b,,c"), "");
  EXPECT_EQ(s.list("l"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(set(s, platform::path_key("p", "", true, false), std::string("a\0b", 3)),
            "a path cannot contain a NUL byte");
}

TEST(Settings, DefaultsFillWhatIsUnsetAndRequiredKeysStayUnset) {
  Settings s;
  const std::vector<KeySpec> keys = {platform::port_key("port", 4, ""),
                                     platform::integer_key("baud", 115200, 50, 1'000'000, ""),
                                     platform::integer_key("fifo", 16, 1, 64, "")};
  ASSERT_EQ(set(s, keys[2], "8"), "");
  s.fill_defaults(keys);
  EXPECT_FALSE(s.has("port"));
  EXPECT_EQ(s.number("baud"), 115200u);
  EXPECT_EQ(s.where("baud"), "default");
  EXPECT_EQ(s.number("fifo"), 8u) << "a set value is not overwritten";
  EXPECT_EQ(s.where("fifo"), "test:1");
  EXPECT_EQ(platform::default_text(keys[0]), "(required)");
  EXPECT_THROW(s.number("port"), std::logic_error) << "reading an undeclared key is a bug";
}

}  // namespace
