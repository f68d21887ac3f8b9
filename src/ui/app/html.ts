import { h } from "preact"
import htm from "htm"

// Preact with htm: tagged templates instead of JSX, so the browser code needs
// no JSX settings in the project's TypeScript config.
export const html = htm.bind(h)
