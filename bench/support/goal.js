/** The pieces every goal check is made of: find an arm or a row, word a goal. */
/** The arm called `name` at the level with `inFlight` calls in flight. */
export function arm(scenario, name, inFlight) {
  const level = inFlight
    ? scenario.levels.find((l) => l.inFlight === inFlight)
    : scenario.levels[0];
  return level?.arms.find((a) => a.name === name);
}

/** Rows of the hot-path results of `strategy` at `load`. */
export function pickRows(hot, strategy, load) {
  return hot.pick.find((p) => p.strategy === strategy).rows.filter((r) => r.load === load);
}

/** One goal: its id, words, the figures behind it, and whether it was met. */
export function goal(id, text, figures, met, miss) {
  return { id, goal: text, figure: figures.join(', '), met, ...(met ? {} : { miss }) };
}
