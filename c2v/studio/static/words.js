// The pipeline's progress words, said for a person.

const DOING = {
  generate: "writing its code",
  fix_lines: "fixing its code",
  fix_file: "fixing its code",
  regenerate: "rewriting its code",
  revise: "revising its layout",
  anchor_edit: "moving objects",
  note: "revising from your note",
};

/** A section's status in words ("rendering l" is the pipeline's "rendering at tier l"). */
export function doing(status) {
  const tier = /^rendering (\w)$/.exec(status);
  return tier ? `rendering at tier ${tier[1]}` : (DOING[status] ?? status);
}

export const attempts = (n) => `${n} attempt${n === 1 ? "" : "s"}`;
