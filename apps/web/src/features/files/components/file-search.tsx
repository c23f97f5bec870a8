import { useEffect, useId, useState } from 'react';

/** Search box that reports its value after typing pauses, so each keystroke is not a request. */
export function FileSearch({ onSearch }: { onSearch: (q: string) => void }) {
  const id = useId();
  const [value, setValue] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => onSearch(value.trim()), 300);
    return () => clearTimeout(timer);
  }, [value, onSearch]);
  return (
    <div className="field search" role="search">
      <label htmlFor={id}>Search files by name</label>
      <input id={id} type="search" value={value} onChange={(e) => setValue(e.target.value)} />
    </div>
  );
}
