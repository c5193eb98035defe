// A table whose columns sort on a click (numbers by value, text by name),
// for top lists and the per-pod breakdown.
import type { TableView } from '../view-types.js';

export function sortableTable(view: TableView): HTMLElement {
  const table = document.createElement('table');
  table.className = 'sortable';
  const head = table.createTHead().insertRow();
  const body = table.createTBody();
  let sortedBy = -1;
  let descending = true;
  const draw = () => {
    const rows = [...view.rows];
    if (sortedBy >= 0) {
      const numeric = view.columns[sortedBy]?.numeric === true;
      rows.sort((a, b) => {
        const order = numeric
          ? (a.sortKeys[sortedBy] ?? -Infinity) - (b.sortKeys[sortedBy] ?? -Infinity)
          : (a.cells[sortedBy] ?? '').localeCompare(b.cells[sortedBy] ?? '');
        return descending ? -order : order;
      });
    }
    body.replaceChildren(
      ...rows.map((row) => {
        const tr = document.createElement('tr');
        row.cells.forEach((cell, i) => {
          const td = tr.insertCell();
          td.textContent = cell;
          if (view.columns[i]?.numeric === true) td.className = 'num';
        });
        return tr;
      }),
    );
  };
  view.columns.forEach((column, i) => {
    const th = document.createElement('th');
    th.textContent = column.label;
    th.title = 'click to sort';
    if (column.numeric) th.className = 'num';
    th.addEventListener('click', () => {
      descending = sortedBy === i ? !descending : column.numeric;
      sortedBy = i;
      for (const other of head.cells) other.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      draw();
    });
    head.append(th);
  });
  draw();
  return table;
}
