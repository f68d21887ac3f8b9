// Text files imported `with { type: "text" }` (the role prompts) are strings.
declare module "*.md" {
  const text: string
  export default text
}
