#pragma once
// A serial (character) device: a UART with RX and TX FIFOs, timed by its baud rate (ten bit
// times per character: start, eight data bits, stop).
//
// Registers (I/O space, from the base):
//   0 DATA      8-bit RW  read: the oldest received character (0 if none); write: queue one for
//                         sending (dropped and counted if the TX FIFO is full)
//   1 STATUS    8-bit RO  RX_READY 0x01, TX_EMPTY 0x02 (FIFO and shift register idle), TX_FULL
//   0x04,
//                         OVERRUN 0x08 (a character arrived to a full RX FIFO; reading STATUS
//                         clears it), IRQ 0x10 (the line is high)
//   2 CONTROL   8-bit RW  RX_IE 0x01 (interrupt while RX_READY), TX_IE 0x02 (interrupt when the
//                         transmitter drains; a DATA or CONTROL write clears it)
//   3 RX_LEVEL  8-bit RO  characters in the RX FIFO
//
// Input comes from a file (its bytes arrive back to back from t = 0) and/or a timed script of
// lines "TIME TEXT" (TEXT arrives from TIME on, or after the input before it has arrived;
// escapes \n \r \t \\ \xHH). Output goes to a file. The input file is streamed (read a block
// at a time as its characters are due), so its size costs no memory; a script is read whole at
// start (its errors name the line) and is bounded: lines of at most 64 KiB, 16 MiB in all.
// Overruns are counted, logged and put in the event log: never silent.
#include <cstdint>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "hw/core/pin.h"
#include "hw/core/register_bank.h"
#include "hw/core/traced.h"
#include "util/log.h"

namespace hw::devices {

constexpr std::uint64_t kSerialWindow = 4;

enum SerialStatus : std::uint8_t {
  kSerRxReady = 0x01,
  kSerTxEmpty = 0x02,
  kSerTxFull = 0x04,
  kSerOverrun = 0x08,
  kSerIrq = 0x10
};
enum SerialControl : std::uint8_t { kSerRxIe = 0x01, kSerTxIe = 0x02 };

class Serial : public sc_core::sc_module {
 public:
  struct Stats {
    std::uint64_t rx_chars = 0, tx_chars = 0, rx_overruns = 0, tx_dropped = 0, interrupts = 0;
  };

  tlm_utils::simple_target_socket<Serial> in;
  PinOut irq{"irq"};

  Serial(const sc_core::sc_module_name& name, std::uint64_t baud, unsigned fifo_depth);
  ~Serial() override;

  // Each returns "" or why not (named file and line), for the platform's config errors.
  std::string set_input_file(const std::string& path);
  std::string set_input_script(const std::string& path);
  std::string set_output_file(const std::string& path);
  void flush();
  // Closes the output file: "" if every character reached it, else why not (naming the file).
  std::string close_output();

  std::uint64_t char_ps() const { return char_ps_; }
  const Stats& stats() const { return stats_; }
  void trace(sc_core::sc_trace_file* tf) const;

 private:
  void b_transport(tlm::tlm_generic_payload& tx, sc_core::sc_time& delay);
  // The next input character and its arrival time, generated as needed from the file and
  // then the script's lines; false when the input is exhausted.
  bool next_input(std::uint64_t& at_ps, std::uint8_t& c);
  void rx_arrive();
  void tx_shift();
  void start_tx();
  void update_irq();

  util::Logger log_;
  RegisterBank regs_;
  std::uint64_t char_ps_;
  unsigned depth_;
  struct ScriptLine {
    std::uint64_t at_ps;
    std::string text;
  };
  std::FILE* in_ = nullptr;          // the input file, streamed
  std::vector<std::uint8_t> block_;  // its current block
  std::size_t block_pos_ = 0;
  std::deque<ScriptLine> script_;  // lines not yet started
  std::size_t script_pos_ = 0;     // within script_.front()
  std::uint64_t cursor_ps_ = 0;    // the previous character's arrival, within a segment
  bool in_segment_ = false;        // cursor_ps_ belongs to the segment in progress
  std::uint64_t last_arrival_ps_ = 0;
  bool any_arrival_ = false;
  bool has_next_ = false;  // the arrival scheduled: (next_ps_, next_char_)
  std::uint64_t next_ps_ = 0;
  std::uint8_t next_char_ = 0;
  std::deque<std::uint8_t> rx_, tx_;
  std::uint8_t shifter_ = 0;                         // the character on the line
  Traced<bool> shifting_ = false, overrun_ = false;  // traced, with irq_level_: report changes
  bool tx_irq_ = false;
  Traced<bool> irq_level_ = false;
  std::uint8_t control_ = 0;
  std::FILE* out_ = nullptr;
  std::string out_path_;
  int out_errno_ = 0;  // the first failed write's errno
  sc_core::sc_event rx_event_, tx_event_;
  Stats stats_;
};

}  // namespace hw::devices
