/* The equity and drawdown charts of a strategy's page and of a backtest's page (lightweight-charts, copied
 * into static/vendor/ by make static): one time axis for both, money and percent labels, and a note in
 * #charts-note when the library is missing or there is nothing to draw. Needs ql.js. */
(function () {
  "use strict";

  const { dec, ONE } = QL;

  // Axis and crosshair labels: the chart hands us numbers (its own scale); money with separators, two places.
  function axisMoney(value) {
    const [whole, fraction] = Math.abs(value).toFixed(2).split(".");
    return (value < 0 ? "−" : "") + QL.group3(whole) + "." + fraction;
  }

  function axisPercent(value) {
    return (value < 0 ? "−" : "") + Math.abs(value).toFixed(2) + "%";
  }

  // Only to place points: the figures people read (captions, tables) come from the exact decimals.
  function plotted(value) {
    const n = dec(value);
    return n === null ? null : Number(n) / Number(ONE);
  }

  function note(text) {
    const box = document.getElementById("charts-note");
    box.textContent = text || "";
    box.hidden = !text;
  }

  /* The two charts in #equity-chart and #drawdown-chart, or null (with a note) without the library.
   * draw(equity, drawdown) takes points {time, value}: equity in money, drawdown in percent (negative). */
  function equityAndDrawdown() {
    const LC = window.LightweightCharts;
    if (!LC || typeof LC.createChart !== "function") {
      for (const id of ["equity-chart", "drawdown-chart"]) document.getElementById(id).hidden = true;
      note("Charts are unavailable: the charting library is not installed (make static copies it into static/vendor/).");
      return null;
    }
    const grid = "rgba(34, 45, 64, 0.6)";
    const options = {
      autoSize: true,
      // The library's own logo injects a <style> element, which a strict Content-Security-Policy refuses:
      // the page credits TradingView with a plain link under the charts instead (the licence's attribution).
      layout: { background: { type: LC.ColorType.Solid, color: "transparent" }, textColor: "#8592a8", fontSize: 11, attributionLogo: false },
      grid: { vertLines: { color: grid }, horzLines: { color: grid } },
      rightPriceScale: { borderColor: "#222d40" },
      timeScale: { borderColor: "#222d40", fixLeftEdge: true, fixRightEdge: true },
      localization: { dateFormat: "yyyy-MM-dd" },
    };
    const equityChart = LC.createChart(document.getElementById("equity-chart"), options);
    const equity = equityChart.addSeries(LC.AreaSeries, {
      lineColor: "#4c8dff",
      topColor: "rgba(76, 141, 255, 0.28)",
      bottomColor: "rgba(76, 141, 255, 0.02)",
      lineWidth: 2,
      priceFormat: { type: "custom", formatter: axisMoney, minMove: 0.01 },
    });
    const drawdownChart = LC.createChart(document.getElementById("drawdown-chart"), options);
    const drawdown = drawdownChart.addSeries(LC.BaselineSeries, {
      baseValue: { type: "price", price: 0 },
      topLineColor: "rgba(0, 0, 0, 0)",
      topFillColor1: "rgba(0, 0, 0, 0)",
      topFillColor2: "rgba(0, 0, 0, 0)",
      bottomLineColor: "#ff5b5b",
      bottomFillColor1: "rgba(255, 91, 91, 0.05)",
      bottomFillColor2: "rgba(255, 91, 91, 0.35)",
      lineWidth: 2,
      priceFormat: { type: "custom", formatter: axisPercent, minMove: 0.01 },
    });
    // One time axis for both: scrolling or zooming one moves the other.
    let syncing = false;
    const link = (from, to) =>
      from.timeScale().subscribeVisibleLogicalRangeChange((range) => {
        if (syncing || !range) return;
        syncing = true;
        to.timeScale().setVisibleLogicalRange(range);
        syncing = false;
      });
    link(equityChart, drawdownChart);
    link(drawdownChart, equityChart);
    return {
      draw(equityPoints, drawdownPoints) {
        equity.setData(equityPoints);
        drawdown.setData(drawdownPoints);
        equityChart.timeScale().fitContent();
        drawdownChart.timeScale().fitContent();
      },
    };
  }

  QL.charts = Object.freeze({ equityAndDrawdown, plotted, note });
})();
