/** A LIKE pattern matching `text` anywhere, literally: its \, % and _ escaped (use with ESCAPE '\'). */
export const likeLiteral = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
