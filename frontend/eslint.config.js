// ESLint for the studio's front end (`npm run lint`; `make studio-test` runs it with
// --max-warnings 0, so a warning fails CI too). ESLint's recommended rules, typescript-eslint's
// recommended rules with type information (they read tsconfig.json through the project
// service: about as long as `tsc --noEmit`), and the Rules of Hooks.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default defineConfig(
  // The build goes to ../src/scalesim/studio/static (vite.config.ts), outside this folder;
  // dist/ and coverage/ are what Vite and Vitest write by default.
  { ignores: ["dist/", "coverage/"] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // Files outside tsconfig.json's "include" (this one) get a default project.
        projectService: { allowDefaultProject: ["*.js"] },
        // (import.meta.dirname would need Node 20.11; package.json allows Node 18.18.)
        tsconfigRootDir: dirname(fileURLToPath(import.meta.url)),
      },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  reactHooks.configs["recommended-latest"],
  {
    rules: {
      // Rest siblings omit a key (`const { $ref: _ignored, ...rest } = schema`), which
      // `tsc --noUnusedLocals` accepts too.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
      // The result document is `Record<string, any>` on purpose (api.ts: docs/results.md
      // describes it and new sections arrive as new keys), and the tests read YAML and JSON
      // fixtures, which are `any`: these rules would flag every read of them. An `any` written
      // out still needs a reason (no-explicit-any stays on).
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      // The model shows values from the user's spec as written (typed Json or unknown: a
      // number, a duration string, or whatever the user put there, which validation reports);
      // String(value) and `${value}` on them are deliberate.
      "@typescript-eslint/no-base-to-string": "off",
      "@typescript-eslint/restrict-template-expressions": "off",
    },
  },
);
