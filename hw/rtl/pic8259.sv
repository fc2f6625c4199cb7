// An Intel 8259A programmable interrupt controller, one chip, as synthesizable SystemVerilog:
// the same programming model and behaviour as the TLM model (hw/intc/pic8259.h), which is its
// specification, including the choices documented there (edge latch cleared with the line,
// ICW1 clearing IRR/ISR, SFNM on cascaded inputs only, 8086-mode vectors).
//
// The CPU side is a synchronous register interface rather than the 8080 bus pins: `wr`, `rd`,
// `inta1` and `inta2` (the two INTA pulses, in consecutive cycles) are one-cycle strobes; `dout`
// and `vec` are valid in the strobe's cycle and the state changes at its clock edge. The first
// pulse sets the ISR bit (so INT falls unless a higher request is pending); the second drives
// the vector and, in automatic-EOI mode, clears that bit at its end (so INT rises again for a
// pending request, and a master sampling a slave's INT sees the new edge). `ir` is sampled every clock. Debug outputs expose IRR, ISR,
// IMR and event counters for statistics and the equivalence test.
module pic8259 (
    input  logic        clk,
    input  logic        rst,
    input  logic        sp_en,          // strapping: master when not buffered
    input  logic        wr,
    input  logic        rd,
    input  logic        a0,
    input  logic [7:0]  din,
    output logic [7:0]  dout,
    input  logic [7:0]  ir,
    input  logic [7:0]  elcr,           // the chipset's edge/level control: 1 = level-sensitive
    output logic        int_o,
    input  logic        inta1,          // INTA pulses as the master (from the CPU)
    input  logic        inta2,
    input  logic        cas_inta1,      // a master's pulses with cascade identity `cas_id`
    input  logic        cas_inta2,
    input  logic [2:0]  cas_id,
    output logic [7:0]  vec,            // the vector this chip drives in pulse 2
    output logic        cas_request,    // master, pulse 1: the level taken has a slave on it
    output logic        cas_latched,    // master, pulse 2: the level taken has a slave on it
    output logic [2:0]  cas_level,
    output logic        cas_answer,     // slave, pulse 2: `cas_id` is mine, `vec` is valid
    output logic [7:0]  dbg_irr,
    output logic [7:0]  dbg_isr,
    output logic [7:0]  dbg_imr,
    output logic [31:0] dbg_acks,
    output logic [31:0] dbg_spurious,
    output logic [31:0] dbg_eois
);
  // ICW1/ICW4 bits.
  localparam int Ic4 = 0, Sngl = 1, Ltim = 3;
  localparam int Aeoi = 1, Ms = 2, Buf = 3, Sfnm = 4;

  typedef enum logic [1:0] {Ready, Icw2, Icw3, Icw4} step_t;

  step_t      step;
  logic       initialized;
  logic [7:0] icw1, icw3, icw4;
  logic [4:0] base;  // ICW2's T7..T3: the vector base in 8086 mode
  logic [7:0] line, edge_q, isr, imr;
  logic [7:0] irr_frz;               // IRR frozen by a poll command until its read
  logic       thaw;                  // the cycle after a poll read: IRR still frozen
  logic       ack_valid, ack_cas;    // pulse 1 took a level (on a cascade input)
  logic [2:0] ack_level;
  logic [2:0] lowest;
  logic       read_isr, poll, special_mask, rotate_aeoi;
  logic [31:0] acks, spurious_count, eois;

  // ---- priority logic (combinational)
  logic       is_master;
  logic [7:0] irr, live_irr;
  assign is_master = icw1[Sngl] ? 1'b1 : (icw4[Buf] ? icw4[Ms] : sp_en);
  // Level-sensitive inputs (LTIM: all; else those ELCR marks) request while high, the others
  // from a rising edge.
  assign live_irr = icw1[Ltim] ? line : ((line & elcr) | (edge_q & line & ~elcr));
  // The poll's freeze ends one cycle after its read: in that cycle the level read is in service
  // and requests that came inside the window are not yet seen, so INT falls and rises again
  // when one of them wins (an edge-triggered master then sees a new edge), as the TLM model.
  assign irr = (poll || thaw) ? irr_frz : live_irr;

  function automatic logic [2:0] prio(input logic [2:0] level, input logic [2:0] low);
    prio = level - low - 3'd1;
  endfunction

  // Highest-priority set bit of `bits` under rotation `low`: found and level.
  function automatic logic [3:0] highest(input logic [7:0] bits, input logic [2:0] low);
    logic [3:0] r;
    r = 4'b0;
    for (int p = 7; p >= 0; p--) begin
      logic [2:0] level;
      level = low + 3'd1 + 3'(p);
      if (bits[level]) r = {1'b1, level};
    end
    highest = r;
  endfunction

  logic [3:0] req, svc;
  logic       cascaded_req, win_found;
  logic [2:0] win;
  always_comb begin
    req = highest(irr & ~imr, lowest);
    svc = highest(special_mask ? (isr & ~imr) : isr, lowest);
    cascaded_req = !icw1[Sngl] && is_master && icw3[req[2:0]];
    win = req[2:0];
    win_found = 1'b0;
    if (initialized && req[3]) begin
      if (!svc[3]) win_found = 1'b1;
      else if (prio(req[2:0], lowest) < prio(svc[2:0], lowest)) win_found = 1'b1;
      else if (prio(req[2:0], lowest) == prio(svc[2:0], lowest) && icw4[Sfnm] && cascaded_req)
        win_found = 1'b1;
    end
  end

  assign int_o = win_found;
  assign dbg_irr = irr;
  assign dbg_isr = isr;
  assign dbg_imr = imr;
  assign dbg_acks = acks;
  assign dbg_spurious = spurious_count;
  assign dbg_eois = eois;

  // ---- INTA: this chip's part of the sequence
  logic ack1, ack2, my_cascade1, my_cascade2;
  assign my_cascade1 = !is_master && cas_inta1 && (icw3[2:0] == cas_id);
  assign my_cascade2 = !is_master && cas_inta2 && (icw3[2:0] == cas_id);
  assign ack1 = inta1 || my_cascade1;
  assign ack2 = inta2 || my_cascade2;
  assign cas_request = inta1 && win_found && !icw1[Sngl] && is_master && icw3[win];
  assign cas_latched = ack_cas;
  assign cas_level = inta1 ? win : ack_level;
  assign cas_answer = my_cascade2;
  // Nothing taken at pulse 1 (the request vanished): the default IR7, no ISR bit.
  assign vec = ack_valid ? {base, ack_level} : {base, 3'd7};

  // ---- reads
  always_comb begin
    if (poll) dout = win_found ? {5'b10000, win} : 8'h00;
    else if (a0) dout = imr;
    else dout = read_isr ? isr : irr;
  end

  // ---- state
  always_ff @(posedge clk) begin
    if (rst) begin
      step <= Ready;
      initialized <= 1'b0;
      icw1 <= 8'h0; base <= 5'h0; icw3 <= 8'h0; icw4 <= 8'h0;
      line <= 8'h0; edge_q <= 8'h0; isr <= 8'h0; imr <= 8'h0; irr_frz <= 8'h0;
      ack_valid <= 1'b0; ack_cas <= 1'b0; ack_level <= 3'd0;
      lowest <= 3'd7;
      read_isr <= 1'b0; poll <= 1'b0; special_mask <= 1'b0; rotate_aeoi <= 1'b0; thaw <= 1'b0;
      acks <= 32'd0; spurious_count <= 32'd0; eois <= 32'd0;
    end else begin
      logic [7:0] isr_n, edge_n;
      logic [2:0] lowest_n;
      logic [31:0] eois_n;
      isr_n = isr;
      edge_n = (edge_q | (ir & ~line)) & ir;  // a line that drops loses its request
      lowest_n = lowest;
      eois_n = eois;
      line <= ir;
      thaw <= rd && poll && win_found && !ack1 && !ack2;  // a read that took a level

      if (ack1) begin
        ack_valid <= win_found;
        ack_level <= win;
        ack_cas <= cas_request;
        if (win_found) begin
          isr_n[win] = 1'b1;
          edge_n[win] = 1'b0;
          irr_frz[win] <= 1'b0;
          acks <= acks + 32'd1;
        end else begin
          spurious_count <= spurious_count + 32'd1;
        end
      end else if (ack2) begin
        ack_valid <= 1'b0;
        ack_cas <= 1'b0;
        if (ack_valid && icw4[Aeoi]) begin  // automatic EOI at the end of the second pulse
          isr_n[ack_level] = 1'b0;
          if (rotate_aeoi) lowest_n = ack_level;
          eois_n = eois_n + 32'd1;
        end
      end else if (rd && poll) begin
        poll <= 1'b0;
        if (win_found) begin
          isr_n[win] = 1'b1;
          edge_n[win] = 1'b0;
          irr_frz[win] <= 1'b0;
          acks <= acks + 32'd1;
        end
      end else if (wr && !a0 && din[4]) begin  // ICW1
        icw1 <= din;
        if (!din[Ic4]) icw4 <= 8'h0;
        edge_n = 8'h0;
        imr <= 8'h0;
        isr_n = 8'h0;
        lowest_n = 3'd7;
        icw3 <= 8'h7;
        special_mask <= 1'b0;
        read_isr <= 1'b0;
        poll <= 1'b0;
        rotate_aeoi <= 1'b0;
        initialized <= 1'b0;
        step <= Icw2;
      end else if (wr && !a0 && din[3]) begin  // OCW3
        if (din[6]) special_mask <= din[5];
        if (din[1]) read_isr <= din[0];
        poll <= din[2];  // freezes IRR until the read; an OCW3 without P cancels the poll
        if (din[2]) irr_frz <= live_irr;
      end else if (wr && !a0) begin  // OCW2
        logic [3:0] top;
        // Special mask mode: a masked in-service level is not cleared by a non-specific EOI.
        top = highest(special_mask ? (isr & ~imr) : isr, lowest);
        case (din[7:5])
          3'b001: if (top[3]) begin isr_n[top[2:0]] = 1'b0; eois_n = eois_n + 32'd1; end
          3'b011: begin isr_n[din[2:0]] = 1'b0; eois_n = eois_n + 32'd1; end
          3'b101: if (top[3]) begin
            isr_n[top[2:0]] = 1'b0; lowest_n = top[2:0]; eois_n = eois_n + 32'd1;
          end
          3'b111: begin isr_n[din[2:0]] = 1'b0; lowest_n = din[2:0]; eois_n = eois_n + 32'd1; end
          3'b110: lowest_n = din[2:0];
          3'b100: rotate_aeoi <= 1'b1;
          3'b000: rotate_aeoi <= 1'b0;
          default: ;  // 010: no operation
        endcase
      end else if (wr && a0) begin
        case (step)
          Icw2: begin
            base <= din[7:3];
            if (!icw1[Sngl]) step <= Icw3;
            else if (icw1[Ic4]) step <= Icw4;
            else begin step <= Ready; initialized <= 1'b1; end
          end
          Icw3: begin
            icw3 <= din;
            if (icw1[Ic4]) step <= Icw4;
            else begin step <= Ready; initialized <= 1'b1; end
          end
          Icw4: begin icw4 <= din; step <= Ready; initialized <= 1'b1; end
          default: imr <= din;  // OCW1
        endcase
      end

      isr <= isr_n;
      edge_q <= edge_n;
      lowest <= lowest_n;
      eois <= eois_n;
    end
  end
endmodule
