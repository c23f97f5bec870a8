import type { ReactNode } from 'react';

/**
 * A scrollable table with one header row; the caller renders the body rows. Cells
 * carry data-label with their column's name so the phone layout can show it.
 */
export function DataTable({ columns, children }: { columns: readonly string[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
