// Name/value pairs as a table: headers, trailers, form fields.
export function FieldTable({ fields, label }: { fields: readonly (readonly [string, string])[]; label: string }) {
  return (
    <table className="headers" aria-label={label}>
      <tbody>
        {fields.map(([name, value], i) => (
          <tr key={i}>
            <th scope="row">{name}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
